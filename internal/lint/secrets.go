package lint

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

// Credential shapes for rule 0045 (secret_in_code). A name is never enough:
// each pattern is a token shape a provider issues, a URL or connection
// string that carries a password, or a long random value assigned to a
// credential-like name.
var secretPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a Stripe secret key", regexp.MustCompile(`\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}`)},
	{"an AWS access key id", regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},
	{"a GitHub token", regexp.MustCompile(`\b(?:ghp|gho|ghs|ghu)_[0-9A-Za-z]{30,}|\bgithub_pat_[0-9A-Za-z_]{40,}`)},
	{"a Slack token", regexp.MustCompile(`\bxox[abprs]-[0-9A-Za-z-]{10,}`)},
	{"a Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a SendGrid API key", regexp.MustCompile(`\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}`)},
	{"a Slack or Discord webhook URL", regexp.MustCompile(`https://hooks\.slack\.com/services/[0-9A-Za-z]+/[0-9A-Za-z]+/[0-9A-Za-z]{12,}|https://(?:discord|discordapp)\.com/api/webhooks/[0-9]+/[0-9A-Za-z_-]{20,}`)},
	{"a URL carrying a key or token", regexp.MustCompile(`(?i)[?&](?:api_?key|key|token|access_token|secret|sig|signature)=([^&\s'"]{16,})`)},
	{"a URL with a password", regexp.MustCompile(`\b[a-z][a-z0-9+.-]{1,20}://[^\s/:@'"]+:([^\s/@'"]{3,})@[^\s'"]+`)},
	{"a connection string with a password", regexp.MustCompile(`(?i)\bpassword\s*=\s*([^\s'"]{6,})`)},
	{"a bearer token", regexp.MustCompile(`(?i)\bbearer\s+([0-9A-Za-z._~+/-]{24,}=*)`)},
	{"a credential assigned to a key, secret, token or password", regexp.MustCompile(`(?i)\b[a-z_]*(?:api_?key|secret|token|password|passwd)[a-z_]*\b['"]?\s*(?::=|=>|=|:)\s*'([^'\s]{16,})'`)},
}

var jwtPattern = regexp.MustCompile(`\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{16,}`)

// secrets (rule 0045): input is the text of a routine body, trigger
// arguments, a default, a comment or database/role settings.
func secrets(input, detail string) (bool, string) {
	var found []string
	for _, tok := range jwtPattern.FindAllString(input, -1) {
		role := jwtRole(tok)
		if role == "anon" {
			continue // Supabase's anon key is public by design (it ships in every client)
		}
		what := "a JWT"
		if role != "" {
			what = "a " + role + " JWT"
		}
		found = append(found, what+" ("+mask(tok)+")")
	}
	for _, p := range secretPatterns {
		for _, m := range p.re.FindAllStringSubmatch(input, -1) {
			value := m[0]
			if len(m) > 1 && m[1] != "" {
				value = m[1]
			}
			if templateValue(value) || (len(m) > 1 && !random(value)) {
				continue
			}
			if jwtPattern.MatchString(value) {
				continue // reported above
			}
			found = append(found, p.what+" ("+mask(m[0])+")")
		}
	}
	if len(found) == 0 {
		return false, detail
	}
	return true, strings.Join(dedupe(found), "; ") + " " + detail
}

// jwtRole is the role claim of a JWT-shaped token, "" when unreadable.
func jwtRole(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Role string `json:"role"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	return claims.Role
}

// templateValue tells template values (${KEY}, <password>, ***, :'var',
// current_setting(...)) from real ones.
func templateValue(v string) bool {
	l := strings.ToLower(v)
	if strings.ContainsAny(v, "${}<>*%") || strings.HasPrefix(v, ":") {
		return true
	}
	for _, w := range []string{"password", "passwd", "secret", "changeme", "example", "xxxx", "your", "placeholder", "redacted"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// random says whether a value looks generated (letters and digits mixed,
// no spaces) rather than a word or a setting name.
func random(v string) bool {
	var letters, digits int
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			letters++
		case r == ' ':
			return false
		}
	}
	return letters > 0 && digits > 0
}

// mask keeps the first characters of a credential.
func mask(s string) string {
	if len(s) <= 10 {
		return s[:min(len(s), 4)] + "…"
	}
	return s[:10] + "…"
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
