package exchange

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// mailEndpoint is where Exchange Online serves proto, for fixes that have
// to say which address is right.
func mailEndpoint(proto string) string {
	switch MailProtocol(proto) {
	case MailIMAP:
		return mailIMAPAddr + " (IMAP, TLS from the first byte)"
	case MailPOP:
		return mailPOPAddr + " (POP, TLS from the first byte)"
	}
	return mailSMTPAddr + " (SMTP submission with STARTTLS)"
}

// mailGenericFix says what to do about failures that do not depend on a
// protocol's answer: network, TLS, timeouts and odd servers.
func mailGenericFix(e *MailError, timeout time.Duration) string {
	if mailIsTimeout(e.Err) {
		switch e.Stage {
		case mailStageConnect:
			return fmt.Sprintf("No connection to %s within %s: a firewall or proxy probably drops outgoing traffic to that port. Allow outbound TCP to it from this machine, or run the probe where mail clients are allowed out.", e.Addr, timeout)
		case mailStageTLS:
			return fmt.Sprintf("The TLS handshake with %s did not finish within %s: something between this machine and the server holds the connection (a proxy or deep packet inspection). Allow the traffic unfiltered and probe again.", e.Addr, timeout)
		}
		return fmt.Sprintf("%s stopped answering within %s. Probe again; if it keeps timing out, check for a proxy or firewall that holds mail traffic, and Microsoft 365 service health.", e.Addr, timeout)
	}
	if errors.Is(e.Err, context.Canceled) {
		return "The probe was canceled before it finished; run it again."
	}
	switch e.Stage {
	case mailStageConnect:
		return mailConnectFix(e)
	case mailStageTLS:
		return mailTLSFix(e)
	case mailStageGreeting:
		return fmt.Sprintf("%s did not answer in the %s protocol. Check the address and port: Exchange Online is %s.", e.Addr, mailProtoName(e.Protocol), mailEndpoint(e.Protocol))
	}
	switch {
	case errors.Is(e.Err, mailErrNoXOAUTH2):
		return fmt.Sprintf("%s does not offer OAuth sign-in (SASL XOAUTH2) for %s. Exchange Online does, at %s; an on-premises Exchange needs Hybrid Modern Authentication before it accepts tokens.", e.Addr, mailProtoName(e.Protocol), mailEndpoint(e.Protocol))
	case errors.Is(e.Err, mailErrTemporary):
		return "The server could not check the token just now (a temporary failure on its side). Probe again in a few minutes; if it persists, check Microsoft 365 service health."
	}
	return fmt.Sprintf("%s gave an answer the probe does not know. Check that %s is the right server: Exchange Online is %s.", e.Addr, e.Addr, mailEndpoint(e.Protocol))
}

func mailConnectFix(e *MailError) string {
	var dns *net.DNSError
	switch {
	case errors.As(e.Err, &dns):
		return fmt.Sprintf("The host name in %s does not resolve. Check the spelling (Exchange Online: %s) and this machine's DNS settings.", e.Addr, mailEndpoint(e.Protocol))
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection: nothing listens on that port, or a firewall rejects it. Check the port (Exchange Online: %s) and outbound firewall rules.", e.Addr, mailEndpoint(e.Protocol))
	case errors.Is(e.Err, syscall.ENETUNREACH), errors.Is(e.Err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("No route to %s: this machine has no network path to it. Check the network, VPN and proxy settings.", e.Addr)
	}
	return fmt.Sprintf("Could not connect to %s. Check the host, the port (Exchange Online: %s) and outbound firewall rules.", e.Addr, mailEndpoint(e.Protocol))
}

func mailTLSFix(e *MailError) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.Is(e.Err, mailErrNoSTARTTLS):
		return fmt.Sprintf("%s does not offer STARTTLS, and a token must never be sent unencrypted. Use %s.", e.Addr, mailEndpoint(e.Protocol))
	case errors.Is(e.Err, mailErrNotTLSClean):
		return fmt.Sprintf("%s sent data before encryption started, which is how STARTTLS injection attacks look. Do not use this path; check for a proxy that rewrites mail traffic.", e.Addr)
	case errors.As(e.Err, &unknown):
		return fmt.Sprintf("This machine does not trust the certificate of %s: usually a proxy or antivirus that inspects TLS sits in between. Exempt the host from inspection, or add the proxy's root certificate to the system trust store.", e.Addr)
	case errors.As(e.Err, &hostname):
		return fmt.Sprintf("The certificate of %s is for another name. Connect by the server's real host name (Exchange Online: %s), not by IP address or alias.", e.Addr, mailEndpoint(e.Protocol))
	case errors.As(e.Err, &invalid):
		return fmt.Sprintf("The certificate of %s is not valid (expired, not yet valid, or not for servers). Check this machine's clock, then the server's certificate.", e.Addr)
	case errors.As(e.Err, &record):
		return fmt.Sprintf("%s did not answer with TLS: the port expects a plain-text start. Exchange Online is %s.", e.Addr, mailEndpoint(e.Protocol))
	}
	return fmt.Sprintf("The TLS handshake with %s failed. The server needs TLS 1.2 or later; check for a proxy that inspects or blocks TLS.", e.Addr)
}

// mailProtoName is the protocol's name as people write it.
func mailProtoName(proto string) string {
	switch MailProtocol(proto) {
	case MailIMAP:
		return "IMAP"
	case MailPOP:
		return "POP"
	}
	return "SMTP"
}
