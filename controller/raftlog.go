package controller

import "go.uber.org/zap"

// raftLogger adapts zap to etcd raft's Logger. raft's info lines are
// election chatter naming raft ids (node.id+1), so they go to DEBUG; the
// controller logs what an operator needs (the active controller, its term)
// at INFO with node ids. --log-level info,controller.raft=debug shows them.
type raftLogger struct{ s *zap.SugaredLogger }

func (l raftLogger) Debug(v ...any)                   { l.s.Debug(v...) }
func (l raftLogger) Debugf(format string, v ...any)   { l.s.Debugf(format, v...) }
func (l raftLogger) Error(v ...any)                   { l.s.Error(v...) }
func (l raftLogger) Errorf(format string, v ...any)   { l.s.Errorf(format, v...) }
func (l raftLogger) Info(v ...any)                    { l.s.Debug(v...) }
func (l raftLogger) Infof(format string, v ...any)    { l.s.Debugf(format, v...) }
func (l raftLogger) Warning(v ...any)                 { l.s.Warn(v...) }
func (l raftLogger) Warningf(format string, v ...any) { l.s.Warnf(format, v...) }
func (l raftLogger) Fatal(v ...any)                   { l.s.Fatal(v...) }
func (l raftLogger) Fatalf(format string, v ...any)   { l.s.Fatalf(format, v...) }
func (l raftLogger) Panic(v ...any)                   { l.s.Panic(v...) }
func (l raftLogger) Panicf(format string, v ...any)   { l.s.Panicf(format, v...) }
