package logging

import (
	"fmt"
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// levelCore filters entries by their logger's level in Levels before
// handing them to the encoder core.
type levelCore struct {
	zapcore.Core
	levels *Levels
}

func (c *levelCore) Enabled(l zapcore.Level) bool { return l >= c.levels.table.Load().min }

func (c *levelCore) With(fields []zapcore.Field) zapcore.Core {
	return &levelCore{Core: c.Core.With(fields), levels: c.levels}
}

func (c *levelCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.levels.table.Load().enabled(e.LoggerName, e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// New builds a logger writing to w: console lines ("console") or JSON
// ("json"), with levels from spec (see ParseLevels).
func New(w io.Writer, format, spec string) (*zap.Logger, *Levels, error) {
	levels, err := ParseLevels(spec)
	if err != nil {
		return nil, nil, err
	}
	var enc zapcore.Encoder
	switch format {
	case "console", "text", "":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	default:
		return nil, nil, fmt.Errorf("expected console or json, not %q", format)
	}
	inner := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zapcore.DebugLevel)
	return zap.New(&levelCore{Core: inner, levels: levels}), levels, nil
}

// LevelsOf returns the levels of a logger New built, nil for any other.
func LevelsOf(l *zap.Logger) *Levels {
	if c, ok := l.Core().(*levelCore); ok {
		return c.levels
	}
	return nil
}
