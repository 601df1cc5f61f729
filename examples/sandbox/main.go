// Command sandbox runs all of knyt against in-process fakes of Shopify,
// Specter, Klarna, Stripe and PayPal: a Swedish shop's week, from the
// catalogue to the accountant's files.
//
//	go run ./examples/sandbox
//
// It starts the five fakes on loopback, seeds a shop (woollens with
// variants, customers in Sweden, Germany, France and Finland and a German
// business with a valid VAT number, orders paid with Klarna, Stripe and
// PayPal in SEK and EUR) and runs the sync engine (package flow) on an
// SQLite state file: the initial catalogue sync, orders into Specter,
// prices and stock back from Specter, deliveries in Specter becoming
// fulfillments with tracking and captures at the providers, a return
// becoming a credit invoice and a refund, and the providers' payouts,
// which are reconciled against the invoices (package reconcile), booked
// as an SIE file, and the quarter's OSS return (package vat).
//
// It then checks the outcome by reading the fakes' own state — every order
// once in Specter with the shop's total, every delivery fulfilled and
// captured once for the delivered amount, the refund, payouts that sum,
// vouchers that balance — prints a summary and writes to -out:
//
//	vouchers.si           SIE 4I: sale and payout vouchers
//	reconciliation.json   every payout, match and difference
//	reconciliation.csv    one row per payout transaction
//	oss-return.json/.csv  the quarter's OSS return
//	summary.json          counts per entity and system, checks, dead letters
//
// Flags:
//
//	-out DIR          output directory (default ./sandbox-out)
//	-seed N           the story's random seed (default 1)
//	-orders N         orders to place (default 40)
//	-flow MODE        combined (default), shop or erp: which system leads
//	-chaos            inject faults into every fake (5xx, 429, dropped
//	                  connections, answers lost after the write) and kill
//	                  and restart the engine at random points
//	-state FILE       keep the engine's SQLite state in FILE; a second run
//	                  with the same state and flags does nothing new
//	-ecb FILE         ECB eurofxref XML for the OSS return and currency
//	                  bookings (default: illustrative rates)
//	-log FILE         write the engine's and connectors' log to FILE
//
// The exit status is 1 when any check fails or the run cannot finish.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
		}
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	out    string
	seed   uint64
	orders int
	chaos  bool
	flow   string
	state  string
	ecb    string
	log    string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "sandbox-out", "output directory")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the story")
	fs.IntVar(&o.orders, "orders", 40, "number of orders to place")
	fs.BoolVar(&o.chaos, "chaos", false, "inject faults and restart the engine at random points")
	fs.StringVar(&o.flow, "flow", "combined", "which system leads: combined, shop or erp")
	fs.StringVar(&o.state, "state", "", "SQLite state file kept between runs (default: a temporary file)")
	fs.StringVar(&o.ecb, "ecb", "", "ECB eurofxref XML (default: illustrative rates)")
	fs.StringVar(&o.log, "log", "", "write the engine's log to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch o.flow {
	case "combined", "shop", "erp":
	default:
		return o, fmt.Errorf("-flow %q: want combined, shop or erp", o.flow)
	}
	if o.orders < 1 || o.orders > 2000 {
		return o, fmt.Errorf("-orders %d: want 1 to 2000", o.orders)
	}
	return o, nil
}

// run is the whole program, testable: it returns errInvariants when a
// check fails.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	s, cleanup, err := newSandbox(ctx, opts, stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(stdout, "knyt sandbox: %s flow, %d orders, seed %d%s\n", opts.flow, opts.orders, opts.seed, map[bool]string{true: ", chaos", false: ""}[opts.chaos])
	if s.resumed {
		fmt.Fprintf(stdout, "state %s holds a finished run: this run must change nothing\n", s.statePath)
	}
	playErr := s.play(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep, err := s.report(ctx, playErr)
	if err != nil {
		return err
	}
	if err := rep.write(opts.out); err != nil {
		return err
	}
	rep.print(stdout, opts.out)
	if playErr != nil {
		return playErr
	}
	if rep.failed() > 0 {
		return fmt.Errorf("%w: %d of %d", errInvariants, rep.failed(), len(rep.Checks))
	}
	return nil
}

// newSandbox starts the fakes and plans the story.
func newSandbox(ctx context.Context, opts options, stdout io.Writer) (*sandbox, func(), error) {
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	log := slog.New(slog.DiscardHandler)
	if opts.log != "" {
		f, err := os.Create(opts.log)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { f.Close() })
		log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s := &sandbox{opts: opts, log: log, rng: newRand(opts.seed), chaos: rand.New(rand.NewPCG(opts.seed, 0xc4a05)), payouts: newPayoutBook()}
	s.statePath = opts.state
	var err error
	if s.statePath == "" {
		dir, err := os.MkdirTemp("", "knyt-sandbox-")
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		closers = append(closers, func() { os.RemoveAll(dir) })
		s.statePath = filepath.Join(dir, "knyt.db")
	} else if s.journalBefore, s.start, err = journal(ctx, s.statePath); err != nil {
		cleanup()
		return nil, nil, err
	} else {
		for _, st := range s.journalBefore {
			s.resumed = s.resumed || st == flow.StepDone
		}
	}
	if s.start.IsZero() {
		s.start = simStart
	}
	if s.sellerVAT, err = validNumber("SE", sellerOrgBase, "01"); err != nil {
		cleanup()
		return nil, nil, err
	}
	s.sellerOrg = s.sellerVAT[2:8] + "-" + s.sellerVAT[8:12]
	s.customers = baseCustomers()
	for i := range s.customers {
		if s.customers[i].Company != "" {
			// Nordlicht's VAT number: DE and eight digits, completed
			// with the check digit Germany's algorithm gives.
			if s.customers[i].VATNumber, err = validNumber("DE", "81234567", ""); err != nil {
				cleanup()
				return nil, nil, err
			}
		}
	}
	if s.orders, err = planOrders(s.rng, opts.orders, s.customers, s.start); err != nil {
		cleanup()
		return nil, nil, err
	}
	if s.w, err = startWorld(s.start, log); err != nil {
		cleanup()
		return nil, nil, err
	}
	closers = append(closers, s.w.close)
	s.credits = newCreditBook(s.w.clock.Now, s.w.erp.Default(), s.orders)
	s.progress = newProgress(stdout, func() (int, int) { return int(s.w.kill.Crashes()), s.injected() })
	return s, cleanup, nil
}

// journal reads the state of every step in an existing state file
// (nothing when there is none), and when a story on that state begins: the
// Monday after its last step, so that the replayed shop is newer than
// anything the engine has read and every feed brings it all again — the
// journal, not a cursor, must then tell the engine it is done.
func journal(ctx context.Context, path string) (map[string]flow.StepState, time.Time, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("state %s: %w", path, err)
	}
	defer st.Close()
	steps, err := st.Steps(ctx, flow.StepFilter{})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("state %s: %w", path, err)
	}
	out := make(map[string]flow.StepState, len(steps))
	var last time.Time
	for _, s := range steps {
		out[s.Key] = s.State
		if s.UpdatedAt.After(last) {
			last = s.UpdatedAt
		}
	}
	if last.IsZero() {
		return out, time.Time{}, nil
	}
	start := simStart
	for !start.After(last) {
		start = start.AddDate(0, 0, 7)
	}
	return out, start, nil
}

// newRand is the story's random source for a seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// injected counts the faults the fakes injected.
func (s *sandbox) injected() int {
	n := 0
	for _, f := range s.w.faults() {
		for _, k := range faultKinds {
			n += f.Injected(k)
		}
	}
	return n
}

// faultKinds are the kinds of fault -chaos injects.
var faultKinds = []fault.Kind{fault.Status, fault.Drop, fault.LostAnswer}
