package klarnatest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/klarna"
)

// payout is a settled payout with its rows.
type payout struct {
	wire klarna.Payout
	rows []klarna.Transaction
}

// nilOrder stands for "no order" on rows that belong to none (holdback and
// release): the schema requires an order id in UUID form.
const nilOrder = "00000000-0000-0000-0000-000000000000"

// roundDiv divides half away from zero, as Klarna rounds fees and VAT
// (assumed; the rounding rule is not documented).
func roundDiv(n, d int64) int64 {
	if n < 0 {
		return -roundDiv(-n, d)
	}
	return (n*2 + d) / (2 * d)
}

// Settle pays out, dated now, everything captured and refunded since the
// last payout, one payout per currency, and returns their payment
// references (none when nothing is unsettled). Each payout has:
//
//   - a SALE row (detailed type PURCHASE) per capture, with the capture's id
//     and reference (merchant_capture_reference) and the order's references;
//   - per capture two FEE rows, PURCHASE_FEE_PERCENTAGE and
//     PURCHASE_FEE_FIXED, each with vat_rate and vat_amount at the fee VAT
//     rate (rounded half away from zero);
//   - a RETURN row (PURCHASE_RETURN, empty capture_id) per refund, with a
//     FEE_REFUND (PURCHASE_FEE_PERCENTAGE_REFUND) of the percentage fee on
//     the refunded amount and its VAT;
//   - with a holdback configured, a HOLDBACK row (ROLLING_RESERVE) of that
//     share of the sales and a RELEASE row of the previous payout's holdback.
//
// Totals are the sums per category and settlement_amount follows Klarna's
// formula; when the rows come to less than zero, the payout is zero and the
// shortfall is deposited to the debt balance, repaid from later payouts.
// The rows therefore always sum exactly to the settlement amount.
func (s *Server) Settle() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	byCur := map[string][]klarna.Transaction{}
	var ids []string
	for id := range s.orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		o := s.orders[id]
		for _, k := range o.captures {
			if k.settled {
				continue
			}
			k.settled = true
			byCur[o.currency] = append(byCur[o.currency], s.saleRows(o, k)...)
		}
		for _, r := range o.refunds {
			if r.settled {
				continue
			}
			r.settled = true
			byCur[o.currency] = append(byCur[o.currency], s.returnRows(o, r)...)
		}
	}
	for cur := range s.heldBack {
		if _, ok := byCur[cur]; !ok && s.heldBack[cur] > 0 {
			byCur[cur] = nil
		}
	}
	var curs []string
	for cur := range byCur {
		curs = append(curs, cur)
	}
	slices.Sort(curs)
	var refs []string
	for _, cur := range curs {
		refs = append(refs, s.makePayout(cur, byCur[cur]))
	}
	return refs
}

func (s *Server) baseRow(o *order, typ, detailed string, amount int64, at time.Time) klarna.Transaction {
	return klarna.Transaction{
		Amount: amount, Type: typ, DetailedType: detailed, SaleDate: o.createdAt, CaptureDate: at,
		OrderID: o.id, ShortOrderID: o.reference, MerchantReference1: o.ref1, MerchantReference2: o.ref2,
		CurrencyCode: o.currency, PurchaseCountry: o.country, ShippingCountry: o.country,
		InitialPaymentMethodType: "invoice",
	}
}

func (s *Server) feeVAT(row *klarna.Transaction) {
	rate := s.fees.VATRate
	vat := roundDiv(row.Amount*rate, 10000)
	row.VATRate, row.VATAmount = &rate, &vat
}

func (s *Server) saleRows(o *order, k *capture) []klarna.Transaction {
	at := *k.wire.CapturedAt
	sale := s.baseRow(o, klarna.TxTypeSale, "PURCHASE", k.wire.CapturedAmount, at)
	sale.CaptureID, sale.MerchantCaptureReference = k.wire.CaptureID, k.wire.Reference
	rows := []klarna.Transaction{sale}
	if pct := roundDiv(k.wire.CapturedAmount*s.fees.PercentBasisPoints, 10000); pct > 0 {
		fee := s.baseRow(o, klarna.TxTypeFee, "PURCHASE_FEE_PERCENTAGE", pct, at)
		fee.CaptureID = k.wire.CaptureID
		s.feeVAT(&fee)
		rows = append(rows, fee)
	}
	if s.fees.Fixed > 0 {
		fee := s.baseRow(o, klarna.TxTypeFee, "PURCHASE_FEE_FIXED", s.fees.Fixed, at)
		fee.CaptureID = k.wire.CaptureID
		s.feeVAT(&fee)
		rows = append(rows, fee)
	}
	return rows
}

func (s *Server) returnRows(o *order, r *refund) []klarna.Transaction {
	at := *r.wire.RefundedAt
	ret := s.baseRow(o, klarna.TxTypeReturn, "PURCHASE_RETURN", r.wire.RefundedAmount, at)
	ret.RefundID, ret.MerchantRefundReference = r.wire.RefundID, r.wire.Reference
	rows := []klarna.Transaction{ret}
	if pct := roundDiv(r.wire.RefundedAmount*s.fees.PercentBasisPoints, 10000); pct > 0 {
		fr := s.baseRow(o, klarna.TxTypeFeeRefund, "PURCHASE_FEE_PERCENTAGE_REFUND", pct, at)
		fr.RefundID = r.wire.RefundID
		s.feeVAT(&fr)
		rows = append(rows, fr)
	}
	return rows
}

// makePayout totals rows into a payout of currency cur. Caller holds mu.
func (s *Server) makePayout(cur string, rows []klarna.Transaction) string {
	ref := s.paymentReference()
	var t klarna.Totals
	for _, r := range rows {
		switch r.Type {
		case klarna.TxTypeSale:
			t.SaleAmount += r.Amount
		case klarna.TxTypeReturn:
			t.ReturnAmount += r.Amount
		case klarna.TxTypeFee:
			t.FeeAmount += r.Amount
			t.TaxAmount += *r.VATAmount
		case klarna.TxTypeFeeRefund:
			t.FeeRefundAmount += r.Amount
			t.TaxRefundAmount += *r.VATAmount
		}
	}
	pseudo := &order{id: nilOrder, currency: cur, country: s.country, createdAt: s.now}
	if hb := roundDiv(t.SaleAmount*s.fees.HoldbackBasisPoints, 10000); hb > 0 {
		rows = append(rows, s.baseRow(pseudo, klarna.TxTypeHoldback, "ROLLING_RESERVE", hb, s.now))
		t.HoldbackAmount = hb
	}
	if rel := s.heldBack[cur]; rel > 0 {
		rows = append(rows, s.baseRow(pseudo, klarna.TxTypeRelease, "ROLLING_RESERVE", rel, s.now))
		t.ReleaseAmount = rel
	}
	s.heldBack[cur] = t.HoldbackAmount
	sum := t.SaleAmount - t.ReturnAmount - t.FeeAmount - t.TaxAmount + t.FeeRefundAmount + t.TaxRefundAmount -
		t.HoldbackAmount + t.ReleaseAmount
	debt := s.debt[cur]
	t.OpeningDebtBalanceAmount = debt
	if sum >= 0 {
		t.RepayAmount = min(sum, debt)
		t.SettlementAmount = sum - t.RepayAmount
		debt -= t.RepayAmount
	} else {
		t.DepositAmount = -sum
		debt += -sum
	}
	t.ClosingDebtBalanceAmount = debt
	s.debt[cur] = debt
	for i := range rows {
		rows[i].PaymentReference = ref
		rows[i].Payout = "/settlements/v1/payouts/" + ref
	}
	s.payouts = append(s.payouts, &payout{
		wire: klarna.Payout{
			Totals: t, PaymentReference: ref, PayoutDate: s.now, CurrencyCode: cur,
			CurrencyCodeOfRegistrationCountry: "SEK", MerchantSettlementType: klarna.SettlementNet,
			MerchantID: s.merchantID, Transactions: "/settlements/v1/transactions?payment_reference=" + ref,
		},
		rows: rows,
	})
	return ref
}

// paymentReference makes an 8-character reference like Klarna's XISA93DJ.
func (s *Server) paymentReference() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	id := s.newID("payout")
	var b strings.Builder
	for i := 0; i < 8; i++ {
		n, _ := strconv.ParseUint(id[i:i+1], 16, 8)
		b.WriteByte(alphabet[(int(n)*7+i*3)%len(alphabet)])
	}
	ref := b.String()
	for _, p := range s.payouts {
		if p.wire.PaymentReference == ref {
			return s.paymentReference()
		}
	}
	return ref
}

// AddPayout stores a payout with its rows exactly as given, without any
// check: for tests of what a client does with data the generator would
// never produce (rows that do not sum, unknown types, foreign currencies).
// The rows' payment references are set to the payout's.
func (s *Server) AddPayout(p klarna.Payout, rows []klarna.Transaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows = slices.Clone(rows)
	for i := range rows {
		rows[i].PaymentReference = p.PaymentReference
	}
	s.payouts = append(s.payouts, &payout{wire: p, rows: rows})
}

// Payout returns a stored payout and its rows.
func (s *Server) Payout(paymentReference string) (klarna.Payout, []klarna.Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payouts {
		if p.wire.PaymentReference == paymentReference {
			return p.wire, slices.Clone(p.rows), true
		}
	}
	return klarna.Payout{}, nil, false
}

// page parses offset and size (already validated against the description:
// size at most 500) and builds the pagination block with absolute links.
func page(c *call, total int) (from, to int, pg klarna.Pagination) {
	q := c.r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	size := 20
	if v := q.Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	if size <= 0 {
		size = 20
	}
	offset = max(offset, 0)
	from, to = min(offset, total), min(offset+size, total)
	link := func(off int) string {
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = vs
		}
		nq.Set("offset", strconv.Itoa(off))
		nq.Set("size", strconv.Itoa(size))
		return c.base + c.r.URL.Path + "?" + nq.Encode()
	}
	pg = klarna.Pagination{Count: int64(to - from), Total: int64(total), Offset: int64(offset)}
	if to < total {
		pg.Next = link(to)
	}
	if offset > 0 {
		pg.Prev = link(max(offset-size, 0))
	}
	return from, to, pg
}

func parseWindow(q url.Values) (start, end time.Time) {
	if v := q.Get("start_date"); v != "" {
		start, _ = time.Parse(time.RFC3339Nano, v)
	}
	if v := q.Get("end_date"); v != "" {
		end, _ = time.Parse(time.RFC3339Nano, v)
	}
	return start, end
}

// payoutsIn lists payouts dated within [start, end] (both inclusive; an
// open bound when zero), optionally of one currency, in date order.
func (s *Server) payoutsIn(start, end time.Time, currency string) []*payout {
	var out []*payout
	for _, p := range s.payouts {
		d := p.wire.PayoutDate
		if (!start.IsZero() && d.Before(start)) || (!end.IsZero() && d.After(end)) {
			continue
		}
		if currency != "" && !strings.EqualFold(currency, p.wire.CurrencyCode) {
			continue
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b *payout) int { return a.wire.PayoutDate.Compare(b.wire.PayoutDate) })
	return out
}

func (s *Server) listPayouts(c *call) reply {
	q := c.r.URL.Query()
	start, end := parseWindow(q)
	ps := s.payoutsIn(start, end, q.Get("currency_code"))
	from, to, pg := page(c, len(ps))
	out := klarna.PayoutCollection{Payouts: []klarna.Payout{}, Pagination: pg}
	for _, p := range ps[from:to] {
		out.Payouts = append(out.Payouts, p.wire)
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) getPayout(c *call) reply {
	for _, p := range s.payouts {
		if p.wire.PaymentReference == c.params["payment_reference"] {
			return jsonReply(http.StatusOK, p.wire)
		}
	}
	return c.fail(http.StatusNotFound, "NOT_FOUND", "Payout "+c.params["payment_reference"]+" not found")
}

func (s *Server) payoutSummary(c *call) reply {
	q := c.r.URL.Query()
	start, end := parseWindow(q)
	sums := map[string]*klarna.PayoutSummary{}
	var curs []string
	for _, p := range s.payoutsIn(start, end, q.Get("currency_code")) {
		sm, ok := sums[p.wire.CurrencyCode]
		if !ok {
			sm = &klarna.PayoutSummary{SummarySettlementCurrency: p.wire.CurrencyCode, SummaryPayoutDateStart: start, SummaryPayoutDateEnd: end}
			sums[p.wire.CurrencyCode] = sm
			curs = append(curs, p.wire.CurrencyCode)
		}
		t := p.wire.Totals
		sm.SummaryTotalFeeCorrectionAmount += t.FeeCorrectionAmount
		sm.SummaryTotalReleaseAmount += t.ReleaseAmount
		sm.SummaryTotalTaxAmount += t.TaxAmount
		sm.SummaryTotalSettlementAmount += t.SettlementAmount
		sm.SummaryTotalHoldbackAmount += t.HoldbackAmount
		sm.SummaryTotalReversalAmount += t.ReversalAmount
		sm.SummaryTotalReturnAmount += t.ReturnAmount
		sm.SummaryTotalFeeAmount += t.FeeAmount
		sm.SummaryTotalCommissionAmount += t.CommissionAmount
		sm.SummaryTotalSaleAmount += t.SaleAmount
		sm.SummaryTotalRepayAmount += t.RepayAmount
	}
	slices.Sort(curs)
	out := []klarna.PayoutSummary{}
	for _, cur := range curs {
		out = append(out, *sums[cur])
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) listTransactions(c *call) reply {
	q := c.r.URL.Query()
	ref, orderID := q.Get("payment_reference"), q.Get("order_id")
	var rows []klarna.Transaction
	for _, p := range s.payouts {
		if ref != "" && p.wire.PaymentReference != ref {
			continue
		}
		for _, r := range p.rows {
			if orderID != "" && r.OrderID != orderID {
				continue
			}
			rows = append(rows, r)
		}
	}
	from, to, pg := page(c, len(rows))
	for i := range rows {
		if rows[i].Payout != "" && strings.HasPrefix(rows[i].Payout, "/") {
			rows[i].Payout = c.base + rows[i].Payout
		}
	}
	out := klarna.TransactionCollection{Transactions: append([]klarna.Transaction{}, rows[from:to]...), Pagination: pg}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) payoutReport(c *call) reply {
	ref := c.r.URL.Query().Get("payment_reference")
	for _, p := range s.payouts {
		if p.wire.PaymentReference == ref {
			var b bytes.Buffer
			if err := klarna.WritePayoutReport(&b, p.rows); err != nil {
				return c.fail(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", fmt.Sprint(err))
			}
			return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"text/csv; charset=utf-8"}}, body: b.Bytes()}
		}
	}
	return c.fail(http.StatusNotFound, "NOT_FOUND", "Payout "+ref+" not found")
}
