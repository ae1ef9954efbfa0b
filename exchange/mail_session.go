package exchange

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/modauth/modauth/store"
)

// mailMaxLine bounds a server line, so a broken or hostile server cannot
// make the probe buffer without end.
const mailMaxLine = 64 << 10

// mailSession is one connection of a probe, with what every protocol
// needs to fail well.
type mailSession struct {
	ctx     context.Context
	probe   MailProbe
	proto   MailProtocol
	addr    string
	user    string
	ir      string   // the XOAUTH2 initial response
	secrets []string // values no error may contain: the token and ir
	raw     net.Conn // the TCP connection, for deadlines and STARTTLS
	conn    net.Conn // raw, or TLS over raw
	r       *bufio.Reader
}

// mailRun dials addr (or def) and runs fn on the connection within the
// probe's timeout. implicitTLS starts TLS before fn sees the connection.
func (p MailProbe) mailRun(ctx context.Context, proto MailProtocol, def string, implicitTLS bool, user string, token store.Secret, fn func(*mailSession) error) error {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = mailDefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s := &mailSession{ctx: ctx, probe: p, proto: proto, addr: p.Addr, user: user, ir: XOAUTH2(user, token)}
	if s.addr == "" {
		s.addr = def
	}
	s.secrets = []string{s.ir, token.Reveal()}

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return s.fail(mailStageConnect, "", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A canceled parent context must interrupt a blocked read too.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s.raw, s.conn, s.r = conn, conn, bufio.NewReaderSize(conn, mailMaxLine)
	defer func() { _ = s.conn.Close() }() // after STARTTLS, closes TLS and TCP
	if implicitTLS {
		if err := s.startTLS(); err != nil {
			return err
		}
	}
	return fn(s)
}

// startTLS runs the handshake on the raw connection.
func (s *mailSession) startTLS() error {
	if s.r.Buffered() > 0 {
		// Anything already buffered came in the clear and would be read as
		// if it were protected (the STARTTLS injection attack).
		return s.fail(mailStageTLS, "", mailErrNotTLSClean)
	}
	cfg := &tls.Config{}
	if s.probe.TLS != nil {
		cfg = s.probe.TLS.Clone()
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(s.addr)
		if err != nil {
			host = s.addr
		}
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12 // Exchange Online refuses older versions
	}
	tc := tls.Client(s.raw, cfg)
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return s.fail(mailStageTLS, "", err)
	}
	s.conn, s.r = tc, bufio.NewReaderSize(tc, mailMaxLine)
	return nil
}

// readLine returns the next line without its line ending.
func (s *mailSession) readLine() (string, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("server line too long")
	}
	if err != nil {
		if len(line) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// writeLine sends one line; its text never reaches an error.
func (s *mailSession) writeLine(line string) error {
	_, err := io.WriteString(s.conn, line+"\r\n")
	return err
}

// fail builds the MailError for a failure at stage, with the fix that
// fits the stage and cause. reply is the server's raw answer, cleaned here.
func (s *mailSession) fail(stage, reply string, err error) *MailError {
	return s.failFix(stage, reply, err, "")
}

// failFix is fail with a fix the protocol chose from the server's answer.
func (s *mailSession) failFix(stage, reply string, err error, fix string) *MailError {
	if fix == "" {
		// The read failed because time ran out or the caller gave up: say
		// so. The connection's deadline is the context's, and may fire a
		// moment before the context's own timer.
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = context.DeadlineExceeded
		}
	}
	e := &MailError{Protocol: string(s.proto), Addr: s.addr, Stage: stage, Reply: mailClean(reply, s.secrets), Err: err, Fix: fix}
	if e.Fix == "" {
		e.Fix = mailGenericFix(e, s.probeTimeout())
	}
	return e
}

// probeTimeout is the timeout in effect, for messages.
func (s *mailSession) probeTimeout() time.Duration {
	if s.probe.Timeout > 0 {
		return s.probe.Timeout
	}
	return mailDefaultTimeout
}

// logout ends a session that authenticated. Its answer does not matter:
// the probe already succeeded.
func (s *mailSession) logout(cmd, done string) {
	if s.writeLine(cmd) != nil {
		return
	}
	for range 20 {
		line, err := s.readLine()
		if err != nil || strings.HasPrefix(line, done) {
			return
		}
	}
}

// mailIsTimeout says whether err is a timeout of the connection or context.
func mailIsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
