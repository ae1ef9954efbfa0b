package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/template"
)

// unitTemplate is the service's systemd unit, hardened: the program may
// write its data directory and nothing else. ProtectHome=read-only keeps
// a data directory under /home writable through ReadWritePaths.
var unitTemplate = template.Must(template.New("unit").Parse(`[Unit]
Description=modauth monitor: keeps the Exchange OAuth connections of {{.DataDir}} alive
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={{.User}}
ExecStart={{.Exec}} monitor --data-dir {{.DataDir}}{{.Flags}}
Restart=on-failure
RestartSec=5s
KillSignal=SIGTERM
TimeoutStopSec=30s
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={{.DataDir}}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
UMask=0077

[Install]
WantedBy=multi-user.target
`))

// printSystemdUnit writes the unit for this binary, data directory and
// user to stdout, for `| sudo tee /etc/systemd/system/modauth.service`.
func printSystemdUnit(opts *monitorOptions) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("systemd unit: find this program's path: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("systemd unit: find this program's path: %w", err)
	}
	dir, err := filepath.Abs(opts.Data.dir)
	if err != nil {
		return fmt.Errorf("systemd unit: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("systemd unit: who runs it: %w", err)
	}
	for _, p := range []string{exe, dir} {
		if strings.ContainsAny(p, " \t\n\"'\\%") {
			return fmt.Errorf("%w: systemd unit: the path %q holds a space, quote or %% that the unit cannot carry as is: move it", errUsage, p)
		}
	}
	var flags string
	if opts.MetricsAddr != "" {
		flags += " --metrics-addr " + opts.MetricsAddr
	}
	if opts.Interval != defaultInterval {
		flags += " --interval " + opts.Interval.String()
	}
	if args := opts.Data.etcdArgs(); args != nil {
		flags += " " + strings.Join(args, " ")
	}
	return unitTemplate.Execute(opts.IO.Out, struct{ User, Exec, DataDir, Flags string }{u.Username, exe, dir, flags})
}
