// Package flowtest helps test code built on the flow engine: TestStore is
// the conformance suite every flow.Store implementation runs (the
// in-memory store and flow/sqlitestore run it in their tests, and a
// partner's Postgres or Redis store should too).
package flowtest
