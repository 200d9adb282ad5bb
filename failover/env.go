package failover

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envReader reads environment variables through a lookup function and
// collects every problem, so a caller sees all bad values at once.
type envReader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// get returns the trimmed value of name and whether it is set. An empty value
// counts as unset (docker-compose writes NAME= for "not configured").
func (r *envReader) get(name string) (string, bool) {
	if r.lookup == nil {
		return "", false
	}
	v, ok := r.lookup(name)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

func (r *envReader) fail(name, value, why string) {
	r.errs = append(r.errs, fmt.Errorf("failover: %s=%q: %s", name, value, why))
}

func (r *envReader) boolean(name string, dst *bool) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		*dst = true
	case "0", "f", "false", "no", "n", "off":
		*dst = false
	default:
		r.fail(name, v, "not a boolean (true/false, yes/no, on/off, 1/0)")
	}
}

// integer reads a whole number of at least min.
func (r *envReader) integer(name string, dst *int, min int) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, v, "not an integer")
		return
	}
	if n < min {
		r.fail(name, v, fmt.Sprintf("must be at least %d", min))
		return
	}
	*dst = n
}

// seconds reads a duration given as whole seconds ("900") or in Go syntax
// ("15m", "90s"). Negative is refused; so is zero when positive is set.
func (r *envReader) seconds(name string, dst *time.Duration, positive bool) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	d, err := parseSeconds(v)
	if err != nil {
		r.fail(name, v, err.Error())
		return
	}
	if positive && d == 0 {
		r.fail(name, v, "must be positive")
		return
	}
	*dst = d
}

func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("must not be negative")
		}
		if n > int64((1<<63-1)/time.Second) {
			return 0, fmt.Errorf("too large")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("not a duration (whole seconds like 900, or 15m)")
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return d, nil
}
