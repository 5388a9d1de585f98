package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr for a long operation (consume N,
// produce from a file, seek). It shows only when stderr is a terminal: in
// pipes, files and logs it would be noise. The zero value and nil do
// nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress starts a bar over max steps; max < 0 shows a counter with no
// end.
func newProgress(max int64, desc string, opts ...progressbar.Option) *progress {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return &progress{}
	}
	base := []progressbar.Option{
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	}
	return &progress{bar: progressbar.NewOptions64(max, append(base, opts...)...)}
}

// newByteProgress is a bar over a file of size bytes.
func newByteProgress(size int64, desc string) *progress {
	return newProgress(size, desc, progressbar.OptionShowBytes(true))
}

func (p *progress) add(n int) {
	if p != nil && p.bar != nil {
		_ = p.bar.Add(n)
	}
}

// step advances one step and says what comes next.
func (p *progress) step(desc string) {
	if p != nil && p.bar != nil {
		p.bar.Describe(desc)
		_ = p.bar.Add(1)
	}
}

func (p *progress) describe(desc string) {
	if p != nil && p.bar != nil {
		p.bar.Describe(desc)
	}
}

// clear takes the bar off the screen until its next update, so that
// output can be printed on a clean line.
func (p *progress) clear() {
	if p != nil && p.bar != nil {
		_ = p.bar.Clear()
	}
}

// done removes the bar, so the command's output starts on a clean line.
func (p *progress) done() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}
