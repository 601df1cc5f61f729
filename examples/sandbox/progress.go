package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/knyt/knyt/flow"
)

// progress shows what the run is doing: on a terminal one status line of
// live counters, redrawn in place; otherwise (a pipe, a CI log) plain
// lines, one per phase.
type progress struct {
	mu      sync.Mutex
	out     io.Writer
	live    bool
	start   time.Time
	phase   string
	began   time.Time
	last    flow.Counters
	atPhase flow.Counters
	extra   string
	drawn   time.Time
	lives   func() (restarts, faults int)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(out io.Writer, lives func() (int, int)) *progress {
	return &progress{out: out, live: isTerminal(out), start: time.Now(), lives: lives}
}

// begin starts a phase, ending the one before.
func (p *progress) begin(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked()
	p.phase, p.began, p.atPhase, p.extra = name, time.Now(), p.last, ""
	if p.live {
		p.drawLocked(true)
	}
}

// end finishes the current phase.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked()
	p.phase = ""
}

func (p *progress) endLocked() {
	if p.phase == "" {
		return
	}
	d := p.last
	d.Synced -= p.atPhase.Synced
	d.Retried -= p.atPhase.Retried
	d.DeadLettered -= p.atPhase.DeadLettered
	d.Skipped -= p.atPhase.Skipped
	if p.live {
		fmt.Fprint(p.out, "\r\033[K")
	}
	fmt.Fprintf(p.out, "✓ %-38s %4d synced %4d retried %3d dead-lettered %6.1fs\n", p.phase, d.Synced, d.Retried, d.DeadLettered,
		time.Since(p.began).Seconds())
}

// counters updates the engine's counters (summed over its lives).
func (p *progress) counters(c flow.Counters) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = c
	if p.live {
		p.drawLocked(false)
	}
}

// initial shows an initial sync's progress.
func (p *progress) initial(ip flow.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.extra = fmt.Sprintf("catalogue %d/%d", ip.Done, ip.Total)
	if p.live {
		p.drawLocked(false)
	}
}

// note prints a line of its own.
func (p *progress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprint(p.out, "\r\033[K")
	}
	fmt.Fprintf(p.out, "  "+format+"\n", args...)
	if p.live {
		p.drawLocked(true)
	}
}

func (p *progress) drawLocked(force bool) {
	if !force && time.Since(p.drawn) < 80*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	restarts, faults := p.lives()
	line := fmt.Sprintf("… %-30s synced %d  retried %d  dead %d", p.phase, p.last.Synced, p.last.Retried, p.last.DeadLettered)
	if restarts > 0 || faults > 0 {
		line += fmt.Sprintf("  restarts %d  faults %d", restarts, faults)
	}
	if p.extra != "" {
		line += "  " + p.extra
	}
	line += fmt.Sprintf("  %.1fs", time.Since(p.start).Seconds())
	fmt.Fprint(p.out, "\r\033[K"+line)
}
