package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// attachToService makes each command the service runs (service.Commands)
// run in the service when one owns the data directory: bbolt lets one
// process hold the database, and on a server the monitor always runs.
// Without a service, or in the service itself, the command runs here.
func attachToService(root *cobra.Command, io streams, data *dataDirFlag) {
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		local := cmd.RunE
		if local == nil || !service.Allowed(commandPath(cmd)) {
			return
		}
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if data.shared != nil {
				return local(cmd, args)
			}
			c, ok := service.Attach(cmd.Context(), data.dir)
			if !ok {
				return local(cmd, args)
			}
			return forward(cmd, args, io, c)
		}
	}
	walk(root)
}

// commandPath is the command's words after "modauth".
func commandPath(cmd *cobra.Command) []string {
	return strings.Fields(cmd.CommandPath())[1:]
}

// pathFlags and pathArgs are the file arguments: the service resolves
// paths from its own working directory, so they go absolute.
var (
	pathFlags = map[string]bool{"handoff-file": true}
	pathArgs  = map[string]bool{"users import": true}
)

// forward runs the command in the service and ends as the command would
// have: its output on the streams, its error or exit code.
func forward(cmd *cobra.Command, args []string, io streams, c *service.Client) error {
	req, err := runRequest(cmd, args, io.In)
	if err != nil {
		return err
	}
	code, err := c.Run(cmd.Context(), req, io.Out, io.Err)
	switch {
	case err != nil:
		return err
	case code != 0:
		return &exitStatus{code: code}
	}
	return nil
}

// runRequest is the command line as the service takes it: the root's own
// flags (--data-dir: the service's is the one) left out, file arguments
// made absolute, and standard input sent when a file argument is "-".
func runRequest(cmd *cobra.Command, args []string, stdin io.Reader) (service.RunRequest, error) {
	req := service.RunRequest{Command: commandPath(cmd)}
	var flagErr error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if cmd.Root().PersistentFlags().Lookup(f.Name) != nil {
			return
		}
		v := f.Value.String()
		if pathFlags[f.Name] && v != "" {
			v, flagErr = filepath.Abs(v)
		}
		req.Args = append(req.Args, "--"+f.Name+"="+v)
	})
	if flagErr != nil {
		return req, flagErr
	}
	req.Args = append(req.Args, "--")
	for _, a := range args {
		if pathArgs[strings.Join(req.Command, " ")] {
			var err error
			if a, err = fileArg(a, stdin, &req); err != nil {
				return req, err
			}
		}
		req.Args = append(req.Args, a)
	}
	return req, nil
}

// fileArg is a file argument as the service takes it: absolute, or "-"
// with standard input in the request.
func fileArg(a string, stdin io.Reader, req *service.RunRequest) (string, error) {
	if a != "-" {
		return filepath.Abs(a)
	}
	in, err := io.ReadAll(io.LimitReader(stdin, service.MaxStdin+1))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	if len(in) > service.MaxStdin {
		return "", fmt.Errorf("standard input is over %d MiB: give the file's name instead", service.MaxStdin>>20)
	}
	req.Stdin = in
	return a, nil
}

// serviceRunner runs the commands of clients in the service: the same
// command tree as the command line, on the service's open database, so
// the output and exit code are those the command gives without a
// service.
func serviceRunner(db *store.DB, dir string, now streams) service.RunFunc {
	return func(ctx context.Context, req service.RunRequest, stdout, stderr io.Writer) (int, string) {
		data := &dataDirFlag{now: now.Now, shared: db}
		root := newRootCmdOn(streams{In: bytes.NewReader(req.Stdin), Out: stdout, Err: stderr, Now: now.Now}, data)
		// The command's words, then the service's --data-dir (for messages:
		// the database is the lent one whatever a client sends), then the
		// client's flags and, after "--", its arguments.
		args := append(append(append([]string{}, req.Command...), "--data-dir", dir), req.Args...)
		root.SetArgs(args)
		err := root.ExecuteContext(ctx)
		return exitCode(err), errorMessage(err)
	}
}
