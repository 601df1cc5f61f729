package paypaltest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// txRow is one row of the account's transaction history.
type txRow struct {
	id         string
	code       string
	at         time.Time
	visibleAt  time.Time
	cur        string
	gross      decimal.Decimal
	fee        decimal.Decimal
	hasFee     bool
	status     string
	refID      string
	refType    string
	invoiceID  string
	custom     string
	subject    string
	note       string
	bankRef    string
	nonBalance bool
}

// addRow appends a row; s.mu is held.
func (s *Server) addRow(r *txRow) {
	if r.visibleAt.IsZero() {
		r.visibleAt = r.at.Add(s.cfg.searchLag)
	}
	s.txs = append(s.txs, r)
}

// Transaction is a row of the account's history, for seeding and reading
// back. Amounts are PayPal decimal strings with PayPal's signs: a sale's
// Gross positive and its Fee negative, a refund's Gross negative, a
// withdrawal's Gross negative.
type Transaction struct {
	ID              string // generated when empty
	EventCode       string // T-code, e.g. "T0006"
	At              time.Time
	Currency        string
	Gross           string
	Fee             string // empty: no fee_amount
	Status          string // default "S"
	ReferenceID     string
	ReferenceIDType string // ODR, TXN, SUB or PAP
	InvoiceID       string
	CustomField     string
	Subject         string
	Note            string
	BankReferenceID string
	// NonBalance marks a row that does not affect the balance (listed only
	// with balance_affecting_records_only=N).
	NonBalance bool
	// Lag overrides how long after At the row becomes visible to search;
	// zero means the server's lag.
	Lag time.Duration
}

// AddTransaction adds a row to the history (zero At means now).
func (s *Server) AddTransaction(t Transaction) (Transaction, error) {
	if len(t.EventCode) != 5 || t.EventCode[0] != 'T' {
		return Transaction{}, errorf("event code %q is not a T-code", t.EventCode)
	}
	gross, err := mustSignedAmount(t.Currency, t.Gross)
	if err != nil {
		return Transaction{}, err
	}
	r := &txRow{code: t.EventCode, cur: t.Currency, gross: gross, status: t.Status, refID: t.ReferenceID, refType: t.ReferenceIDType,
		invoiceID: t.InvoiceID, custom: t.CustomField, subject: t.Subject, note: t.Note, bankRef: t.BankReferenceID, nonBalance: t.NonBalance}
	if t.Fee != "" {
		if r.fee, err = mustSignedAmount(t.Currency, t.Fee); err != nil {
			return Transaction{}, err
		}
		r.hasFee = true
	}
	if r.status == "" {
		r.status = "S"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.id = t.ID
	if r.id == "" {
		r.id = s.newID()
	}
	r.at = t.At.Truncate(time.Second)
	if t.At.IsZero() {
		r.at = s.nowLocked()
	}
	if t.Lag != 0 {
		r.visibleAt = r.at.Add(t.Lag)
	}
	s.addRow(r)
	return s.exportRow(r), nil
}

func mustSignedAmount(cur, v string) (decimal.Decimal, error) {
	neg := len(v) > 0 && v[0] == '-'
	abs := v
	if neg {
		abs = v[1:]
	}
	a, err := mustAmount(cur, abs)
	if err != nil {
		return decimal.Decimal{}, err
	}
	if neg {
		return a.v.Neg(), nil
	}
	return a.v, nil
}

func (s *Server) exportRow(r *txRow) Transaction {
	t := Transaction{ID: r.id, EventCode: r.code, At: r.at, Currency: r.cur, Gross: amount{r.cur, r.gross}.wire().Value,
		Status: r.status, ReferenceID: r.refID, ReferenceIDType: r.refType, InvoiceID: r.invoiceID, CustomField: r.custom,
		Subject: r.subject, Note: r.note, BankReferenceID: r.bankRef, NonBalance: r.nonBalance, Lag: r.visibleAt.Sub(r.at)}
	if r.hasFee {
		t.Fee = amount{r.cur, r.fee}.wire().Value
	}
	return t
}

// Transactions lists the whole history, oldest first, visible or not.
func (s *Server) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, 0, len(s.txs))
	for _, r := range s.txs {
		out = append(out, s.exportRow(r))
	}
	return out
}

// Balance is the account's balance in currency: the sum of gross and fee
// of every balance-affecting row.
func (s *Server) Balance(currency string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return amount{currency, s.balanceLocked(currency)}.wire().Value
}

func (s *Server) balanceLocked(cur string) decimal.Decimal {
	sum := decimal.Zero
	for _, r := range s.txs {
		if r.cur == cur && !r.nonBalance && r.status != "D" {
			sum = sum.Add(r.gross).Add(r.fee)
		}
	}
	return sum
}

// Withdraw moves the whole balance in currency to the bank now: a T0400
// row whose gross is minus the balance, which is what an automatic
// withdrawal does. It fails when there is nothing to withdraw.
func (s *Server) Withdraw(currency string) (Transaction, error) {
	if _, ok := decimals[currency]; !ok {
		return Transaction{}, errorf("currency %q is not one PayPal takes", currency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bal := s.balanceLocked(currency)
	if !bal.IsPositive() {
		return Transaction{}, errorf("nothing to withdraw in %s (balance %s)", currency, bal)
	}
	r := &txRow{id: s.newID(), code: "T0400", at: s.nowLocked(), cur: currency, gross: bal.Neg(), status: "S",
		subject: "Withdrawal to bank account", bankRef: "BR" + s.newID()[:10]}
	s.addRow(r)
	return s.exportRow(r), nil
}

// ---- GET /v1/reporting/transactions ----

// reportingLayout is how Transaction Search writes dates: without the
// offset colon ("2014-07-11T04:03:52+0000").
const reportingLayout = "2006-01-02T15:04:05-0700"

// msgNotAvailable is PayPal's answer for a start date past its refreshed
// data.
const msgNotAvailable = "Data for the given start date is not available."

func (s *Server) searchTransactions(c *call) reply {
	q := c.r.URL.Query()
	// The description's pattern has already vouched for the form.
	start, err1 := time.Parse(time.RFC3339Nano, q.Get("start_date"))
	end, err2 := time.Parse(time.RFC3339Nano, q.Get("end_date"))
	if err1 != nil || err2 != nil {
		return s.fail(http.StatusBadRequest, fieldIssue("start_date", q.Get("start_date"), "query", "INVALID_PARAMETER_SYNTAX", "dates must be in Internet date and time format"))
	}
	if !end.After(start) {
		return s.fail(http.StatusBadRequest, fieldIssue("end_date", q.Get("end_date"), "query", "INVALID_PARAMETER_VALUE", "end_date must be after start_date"))
	}
	if end.Sub(start) > maxSearchWindow {
		return s.fail(http.StatusBadRequest, fieldIssue("end_date", q.Get("end_date"), "query", "INVALID_PARAMETER_VALUE", "Date range is greater than 31 days"))
	}
	now := s.nowLocked()
	refreshed := now.Add(-s.cfg.searchLag)
	if start.After(refreshed) {
		body := apiError{Name: "INVALID_REQUEST", Message: msgNotAvailable, DebugID: s.debugID(), Details: []errorDetail{}}
		return reply{status: http.StatusBadRequest, render: func(string) any { return body }}
	}
	page, pageSize := 1, 100
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v) // range-checked by the description
	}
	if v := q.Get("page_size"); v != "" {
		pageSize, _ = strconv.Atoi(v)
	}
	// Rows show up once their lag has passed; last_refreshed_datetime
	// promises that everything before it has.
	servedEnd := end
	if now.Before(servedEnd) {
		servedEnd = now
	}
	var match []*txRow
	for _, r := range s.txs {
		switch {
		case r.visibleAt.After(now), r.at.Before(start), r.at.After(servedEnd):
			continue
		case r.nonBalance && q.Get("balance_affecting_records_only") != "N":
			continue
		case q.Get("transaction_id") != "" && r.id != q.Get("transaction_id"):
			continue
		case q.Get("transaction_type") != "" && r.code != q.Get("transaction_type"):
			continue
		case q.Get("transaction_status") != "" && r.status != q.Get("transaction_status"):
			continue
		case q.Get("transaction_currency") != "" && r.cur != q.Get("transaction_currency"):
			continue
		}
		match = append(match, r)
	}
	total := len(match)
	pages := (total + pageSize - 1) / pageSize
	from := min((page-1)*pageSize, total)
	to := min(from+pageSize, total)
	details := make([]any, 0, to-from)
	for _, r := range match[from:to] {
		details = append(details, map[string]any{"transaction_info": s.rowInfo(r)})
	}
	zone := s.cfg.zone
	self := url.URL{Scheme: "https", Host: "api.sandbox.paypal.com", Path: "/v1/reporting/transactions", RawQuery: c.r.URL.RawQuery}
	body := map[string]any{
		"transaction_details":     details,
		"account_number":          s.cfg.account,
		"start_date":              start.In(zone).Format(reportingLayout),
		"end_date":                servedEnd.In(zone).Format(reportingLayout),
		"last_refreshed_datetime": refreshed.In(zone).Format(reportingLayout),
		"page":                    page,
		"total_items":             total,
		"total_pages":             pages,
		"links":                   []link{{Href: self.String(), Rel: "self", Method: "GET"}},
	}
	return reply{status: http.StatusOK, render: func(string) any { return body }}
}

func (s *Server) rowInfo(r *txRow) map[string]any {
	zone := s.cfg.zone
	m := map[string]any{
		"paypal_account_id":           s.cfg.account,
		"transaction_id":              r.id,
		"transaction_event_code":      r.code,
		"transaction_initiation_date": r.at.In(zone).Format(reportingLayout),
		"transaction_updated_date":    r.at.In(zone).Format(reportingLayout),
		"transaction_amount":          amount{r.cur, r.gross}.wire(),
		"transaction_status":          r.status,
		"protection_eligibility":      "01",
	}
	if r.hasFee {
		m["fee_amount"] = amount{r.cur, r.fee}.wire()
	}
	for k, v := range map[string]string{
		"paypal_reference_id": r.refID, "paypal_reference_id_type": r.refType, "invoice_id": r.invoiceID,
		"custom_field": r.custom, "transaction_subject": r.subject, "transaction_note": r.note, "bank_reference_id": r.bankRef,
	} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
