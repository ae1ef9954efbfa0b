package m365sim

import (
	"html/template"
	"net/http"
)

// The pages stand in for Microsoft's sign-in screens, so a person running
// `modauth demo` can complete a browser or device-code sign-in by hand.
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><title>m365sim</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}code{font-size:1.2em}</style></head><body>
<p><b>m365sim</b>: simulated Microsoft Entra ID sign-in</p>{{end}}
{{define "users"}}<label>Sign in as <select name="upn">{{range .}}<option value="{{.UPN}}">{{.DisplayName}} ({{.UPN}})</option>{{end}}</select></label>{{end}}
{{define "signin"}}{{template "head"}}
<h1>Permissions requested</h1><p><b>{{.App}}</b> would like to:</p>
<ul>{{range .Permissions}}<li>{{.Name}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">{{range $k, $v := .Params}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<p>{{template "users" .Users}}</p>
<button name="action" value="accept">Accept</button> <button name="action" value="cancel">Cancel</button></form></body></html>{{end}}
{{define "adminconsent"}}{{template "head"}}
<h1>Grant admin consent for the organization</h1><p><b>{{.App}}</b> asks for:</p>
<ul>{{range .Permissions}}<li>{{.Name}}{{if .Role}} (application){{end}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">{{range $k, $v := .Params}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<p>{{template "users" .Users}}</p><button>Accept</button></form></body></html>{{end}}
{{define "devicelogin"}}{{template "head"}}
<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>
<form method="post" action="/devicelogin"><p><input name="code" autofocus></p>
<p>{{template "users" .Users}}</p>
<button name="action" value="accept">Next</button> <button name="action" value="decline">Cancel</button></form></body></html>{{end}}
{{define "done"}}{{template "head"}}<h1>{{.}}</h1><p>You can close this window.</p></body></html>{{end}}
{{define "error"}}{{template "head"}}<h1>Sorry, but we're having trouble signing you in.</h1>
<p><code>{{.}}</code></p></body></html>{{end}}
{{define "home"}}{{template "head"}}<p>Tenant {{.ID}} ({{index .Domains 0}}). Device sign-in: <a href="/devicelogin">/devicelogin</a></p></body></html>{{end}}
`))

func (s *Sim) render(w http.ResponseWriter, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pages.ExecuteTemplate(w, page, data)
}

func (s *Sim) errorPage(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.Status)
	text := e.Error()
	if s.opts.PlainOIDC {
		text = plainError(e)
	}
	_ = pages.ExecuteTemplate(w, "error", text)
}

// pickableUsers are the first users of a tenant, enough for a demo page.
func (s *Sim) pickableUsers(t *Tenant) []*User {
	if len(t.Users) > 50 {
		return t.Users[:50]
	}
	return t.Users
}

func (s *Sim) handleHome(w http.ResponseWriter, r *http.Request) { s.render(w, "home", s.Tenant) }

func (s *Sim) handleDeviceLoginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, "devicelogin", map[string]any{"Users": s.pickableUsers(s.Tenant)})
}

func (s *Sim) handleDeviceLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	code := r.PostForm.Get("code")
	var err error
	if r.PostForm.Get("action") == "decline" {
		err = s.DeclineDevice(code)
	} else {
		err = s.ApproveDevice(code, r.PostForm.Get("upn"))
	}
	if e, ok := err.(*Error); ok {
		s.errorPage(w, e)
		return
	}
	s.render(w, "done", "You have signed in. Return to your application.")
}
