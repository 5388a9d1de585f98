package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// isoDuration is the ISO-8601 duration share.auto.offset.reset's
// by_duration takes, as Java's Duration.parse reads it: days, hours,
// minutes and (fractional) seconds.
var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseShareReset reads a share.auto.offset.reset value: "latest",
// "earliest", or "by_duration:" and a non-negative ISO-8601 duration (the
// start is the first record at or after now minus it).
func ParseShareReset(v string) (strategy string, d time.Duration, err error) {
	v = strings.TrimSpace(v)
	switch lv := strings.ToLower(v); {
	case lv == "latest", lv == "earliest":
		return lv, 0, nil
	case strings.HasPrefix(lv, "by_duration:"):
		iso := strings.ToUpper(strings.TrimSpace(v[len("by_duration:"):]))
		m := isoDuration.FindStringSubmatch(iso)
		if m == nil || iso == "P" || strings.HasSuffix(iso, "T") {
			return "", 0, fmt.Errorf("by_duration must be a non-negative ISO-8601 duration such as PT1H30M or P1DT2.5S")
		}
		for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
			if m[i+1] == "" {
				continue
			}
			f, _ := strconv.ParseFloat(m[i+1], 64)
			d += time.Duration(f * float64(unit))
		}
		return "by_duration", d, nil
	}
	return "", 0, fmt.Errorf("must be latest, earliest or by_duration:<ISO-8601 duration>")
}

func shareReset(v string) error {
	_, _, err := ParseShareReset(v)
	return err
}
