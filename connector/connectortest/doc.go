// Package connectortest is a conformance suite for connectors, in the spirit
// of testing/fstest: any connector — knyt's own or a partner's — runs [Run]
// from its tests against its fake and learns whether it keeps the contract
// the engine relies on.
//
// The suite checks, for whatever capabilities the connector implements:
//   - upserting the same product batch twice leaves one copy of each;
//   - feeds never skip or repeat an item across pages, even when many items
//     share one timestamp, and return uncommitted items again;
//   - HTTP failures become the typed connector errors (404 not found, 409
//     conflict, 400 validation, 401/403 auth, persistent 429 rate limited,
//     persistent 5xx and timeouts temporary), each naming the system and
//     operation, and a single transient failure is retried;
//   - a cancelled context ends a call with context.Canceled;
//   - a capture or refund sent twice with one idempotency key, or retried
//     after its answer was lost, moves the money once;
//   - a connector.CaptureScopedRefunder refuses a refund beyond the capture
//     it names and refunds nothing then;
//   - payout transactions sum exactly to their payout;
//   - no credential appears in any log line or error.
//
// A [Harness] describes one freshly built connector and its fake: the fake's
// fault injector (from package fault), a cheap probe call, seeders for feeds,
// payments and payouts. Leave out what does not apply; the matching tests
// are skipped, never passed vacuously.
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
//			fake := acmetest.NewServer()
//			t.Cleanup(fake.Close)
//			log := connectortest.NewLogBuffer()
//			c, _ := acme.New(fake.URL(), "token", acme.WithLogger(log.Logger()))
//			return &connectortest.Harness{
//				Connector: c, Log: log, Secrets: []string{"token"},
//				Faults: fake.Faults(), Probe: func(ctx context.Context) error { _, err := c.Payment(ctx, "p1"); return err },
//			}
//		})
//	}
package connectortest
