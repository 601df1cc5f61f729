package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/reconcile/sie"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/vat"
)

// check is one invariant and whether it held; Detail says what was
// wrong, or what was checked.
type check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// checker collects the failures of one invariant.
type checker struct {
	name  string
	fails []string
}

func (c *checker) failf(format string, args ...any) {
	c.fails = append(c.fails, fmt.Sprintf(format, args...))
}

func (c *checker) result(what string) check {
	if len(c.fails) == 0 {
		return check{Name: c.name, Pass: true, Detail: what}
	}
	detail := strings.Join(c.fails[:min(len(c.fails), 5)], "; ")
	if len(c.fails) > 5 {
		detail += fmt.Sprintf("; and %d more", len(c.fails)-5)
	}
	return check{Name: c.name, Pass: false, Detail: detail}
}

// expectDead reports whether the engine is expected to refuse an order:
// Specter holds VAT as a whole percentage (the reference's vatPercent_N is
// an integer), so an OSS sale at Finland's 25.5 % cannot be booked in it.
func expectDead(o *order) bool { return !o.Decision.RatePercent.IsInteger() }

// payment is what a provider's fake records for an order: each capture
// and each refund.
type payment struct {
	captures, refunds []decimal.Decimal
}

func sum(ds []decimal.Decimal) decimal.Decimal {
	t := decimal.Zero
	for _, d := range ds {
		t = t.Add(d)
	}
	return t
}

func cents(n int64) decimal.Decimal { return decimal.New(n, -2) }

// payments reads an order's captures and refunds from its provider's fake.
func (w *world) payments(o *order) payment {
	var p payment
	switch o.Provider {
	case "klarna":
		ko, ok := w.klarna.Order(o.Reference)
		if !ok {
			return p
		}
		for _, c := range ko.Captures {
			p.captures = append(p.captures, cents(c.CapturedAmount))
		}
		for _, r := range ko.Refunds {
			p.refunds = append(p.refunds, cents(r.RefundedAmount))
		}
	case "stripe":
		for _, r := range w.stripe.Requests() {
			if r.Method != "POST" || r.Status != 200 || r.Replayed {
				continue
			}
			switch {
			case r.Path == "/v1/payment_intents/"+o.Reference+"/capture":
				n, _ := strconv.ParseInt(r.Params.Get("amount_to_capture"), 10, 64)
				p.captures = append(p.captures, cents(n))
			case r.Path == "/v1/refunds" && r.Params.Get("payment_intent") == o.Reference:
				n, _ := strconv.ParseInt(r.Params.Get("amount"), 10, 64)
				p.refunds = append(p.refunds, cents(n))
			}
		}
	case "paypal":
		auths := map[string]bool{}
		for id := o.Reference; id != "" && !auths[id]; {
			auths[id] = true
			a, ok := w.paypal.AuthorizationState(id)
			if !ok {
				break
			}
			id = a.ReauthorizedAs
		}
		caps := map[string]bool{}
		for _, c := range w.paypal.Captures() {
			if auths[c.AuthorizationID] {
				caps[c.ID] = true
				p.captures = append(p.captures, decimal.RequireFromString(c.Value))
			}
		}
		for _, r := range w.paypal.Refunds() {
			if caps[r.CaptureID] {
				p.refunds = append(p.refunds, decimal.RequireFromString(r.Value))
			}
		}
	}
	return p
}

// share is round(gross × k / q): what k of q units carry.
func share(gross decimal.Decimal, k, q int) decimal.Decimal {
	if k >= q {
		return gross
	}
	return gross.Mul(decimal.NewFromInt(int64(k))).DivRound(decimal.NewFromInt(int64(q)), 2)
}

// specterTotal is what Specter books for an order: rows to the öre, VAT
// per rate on the rows' sum.
func specterTotal(rows []spectertest.OrderRow) decimal.Decimal {
	net := map[int]decimal.Decimal{}
	for _, r := range rows {
		net[r.VATPercent] = net[r.VATPercent].Add(r.PriceExclVAT.Mul(r.Quantity).Round(2))
	}
	total := decimal.Zero
	for pct, n := range net {
		total = total.Add(n).Add(n.Mul(decimal.NewFromInt(int64(pct))).Div(hundred).Round(2))
	}
	return total
}

// checkWorld checks a finished run against the fakes' own state.
func (s *sandbox) checkWorld(ctx context.Context, b *books, siePath string, dead []flow.Step) []check {
	var out []check
	w, acc := s.w, s.w.erp.Default()

	// Orders: each exactly once in Specter, with the shop's lines and
	// total, except those the engine must refuse.
	byExt := map[string]int{}
	for _, so := range acc.Orders() {
		byExt[so.ExternalOrderNo]++
	}
	orders := &checker{name: "every shop order is in Specter exactly once, with the shop's articles, quantities and total"}
	for _, o := range s.orders {
		want := 1
		if expectDead(o) {
			want = 0
		}
		if byExt[o.Name] != want {
			orders.failf("%s is in Specter %d times, want %d", o.Name, byExt[o.Name], want)
			continue
		}
		so, ok := acc.OrderByExternalNo(o.Name)
		if !ok {
			continue
		}
		qty := map[string]decimal.Decimal{}
		for _, r := range so.Rows {
			if goods(r.ArticleNo) {
				qty[r.ArticleNo] = qty[r.ArticleNo].Add(r.Quantity)
			}
		}
		wantQty := map[string]decimal.Decimal{}
		for _, l := range o.Lines {
			wantQty[l.SKU] = wantQty[l.SKU].Add(decimal.NewFromInt(int64(l.Qty)))
		}
		if !maps.EqualFunc(qty, wantQty, decimal.Decimal.Equal) {
			orders.failf("%s: Specter rows %v, shop lines %v", o.Name, qty, wantQty)
		}
		if got := specterTotal(so.Rows); !got.Equal(o.Total) {
			orders.failf("%s: Specter total %s, shop total %s %s", o.Name, got, o.Total, o.Currency.Code())
		}
		if so.Currency != o.Currency.Code() {
			orders.failf("%s: Specter currency %s, shop %s", o.Name, so.Currency, o.Currency.Code())
		}
	}
	out = append(out, orders.result(fmt.Sprintf("%d orders, %d in Specter", len(s.orders), len(acc.Orders()))))

	out = append(out, s.checkBusiness())

	// Deliveries ↔ fulfillments ↔ captures ↔ refunds.
	ful := &checker{name: "every delivery in Specter is one fulfillment in Shopify with its tracking number and quantities"}
	capt := &checker{name: "every delivered order is captured once per delivery, for the delivered amount"}
	refund := &checker{name: "the return is refunded once, for the returned units; nothing else is refunded"}
	deliveries, captures := 0, 0
	for _, o := range s.orders {
		so, ok := acc.OrderByExternalNo(o.Name)
		if !ok {
			if p := w.payments(o); len(p.captures)+len(p.refunds) > 0 {
				capt.failf("%s is not in Specter but has %d captures", o.Name, len(p.captures))
			}
			continue
		}
		delivered := map[string]int{}
		var tracks []string
		shipments := 0
		for _, d := range so.Deliveries {
			hasGoods := false
			for _, r := range d.Rows {
				if goods(r.ArticleNo) {
					delivered[r.ArticleNo] += int(r.Quantity.IntPart())
					hasGoods = true
				}
			}
			if hasGoods {
				shipments++
				tracks = append(tracks, d.TrackingNo)
			}
		}
		deliveries += shipments
		fs := w.shop.Fulfillments(o.ShopID)
		fulfilled := map[string]int{}
		var gotTracks []string
		for _, f := range fs {
			for _, l := range f.Lines {
				fulfilled[l.SKU] += l.Quantity
			}
			for _, t := range f.Tracking {
				gotTracks = append(gotTracks, t.Number)
			}
		}
		slices.Sort(tracks)
		slices.Sort(gotTracks)
		if len(fs) != shipments || !maps.Equal(fulfilled, delivered) || !slices.Equal(tracks, gotTracks) {
			ful.failf("%s: %d fulfillments %v tracking %v, Specter %d deliveries %v tracking %v", o.Name, len(fs), fulfilled, gotTracks, shipments, delivered, tracks)
		}
		want, all, any := decimal.Zero, true, false
		for _, l := range o.Lines {
			// Several lines of one SKU would share the delivered units;
			// the plan never repeats a SKU within an order.
			want = want.Add(share(l.Gross, delivered[l.SKU], l.Qty))
			all = all && delivered[l.SKU] >= l.Qty
			any = any || delivered[l.SKU] > 0
		}
		if any {
			want = want.Add(o.Shipping)
		}
		if all {
			want = o.Total
		}
		p := w.payments(o)
		captures += len(p.captures)
		if len(p.captures) != shipments || !sum(p.captures).Equal(want) {
			capt.failf("%s at %s: %d captures of %s, want %d of %s", o.Name, o.Provider, len(p.captures), sum(p.captures), shipments, want)
		}
		wantRefund := decimal.Zero
		if r := s.returned; r != nil && r.order == o {
			wantRefund = share(r.line.Gross, r.qty, r.line.Qty)
			if len(p.refunds) != 1 {
				refund.failf("%s: %d refunds, want 1", o.Name, len(p.refunds))
			}
		}
		if !sum(p.refunds).Equal(wantRefund) {
			refund.failf("%s at %s: refunded %s, want %s", o.Name, o.Provider, sum(p.refunds), wantRefund)
		}
	}
	out = append(out, ful.result(fmt.Sprintf("%d deliveries with goods", deliveries)),
		capt.result(fmt.Sprintf("%d captures", captures)))
	if s.returned == nil {
		refund.failf("the story registered no return")
	}
	out = append(out, refund.result("1 return"))

	credit := &checker{name: "the return has a credit invoice equal to its refund, crediting the order's invoice"}
	credits := s.credits.invoices()
	if len(credits) != 1 {
		credit.failf("%d credit invoices, want 1", len(credits))
	}
	for _, ci := range credits {
		r := s.returned
		if r == nil || ci.OrderNumber != r.order.Name || !ci.Gross.Amount.Equal(share(r.line.Gross, r.qty, r.line.Qty)) {
			credit.failf("credit invoice %s for %s of %s", ci.Number, ci.OrderNumber, ci.Gross)
		}
		if so, ok := acc.OrderByExternalNo(ci.OrderNumber); !ok || len(so.InvoiceIDs) == 0 || strconv.Itoa(so.InvoiceIDs[0]) != ci.Credits {
			credit.failf("credit invoice %s credits %q, not the order's invoice", ci.Number, ci.Credits)
		}
	}
	out = append(out, credit.result(fmt.Sprintf("%d credit invoice", len(credits))))

	out = append(out, s.checkCatalogue())

	// Payouts.
	sums := &checker{name: "every payout's transactions sum to the payout"}
	cover := &checker{name: "the payouts settle exactly what was captured and refunded, per provider and currency"}
	settled := map[string]decimal.Decimal{}
	for _, p := range s.payouts.payouts() {
		for _, tx := range p.Transactions {
			switch tx.Kind {
			case commerce.TxSale, commerce.TxRefund:
				k := p.Provider + " " + tx.Amount.Currency.Code()
				settled[k] = settled[k].Add(tx.Amount.Amount)
			}
		}
		if d, err := p.Difference(); err != nil || !d.IsZero() {
			sums.failf("%s %s of %s: the transactions miss it by %s (%v)", p.Provider, p.ID, p.Amount, d.Amount, err)
		}
	}
	moved := map[string]decimal.Decimal{}
	for _, o := range s.orders {
		pm := w.payments(o)
		k := o.Provider + " " + o.Currency.Code()
		moved[k] = moved[k].Add(sum(pm.captures)).Sub(sum(pm.refunds))
	}
	for _, k := range slices.Sorted(maps.Keys(moved)) {
		if moved[k].IsZero() {
			continue
		}
		if !settled[k].Equal(moved[k]) {
			cover.failf("%s: payouts settle %s, the provider captured less refunded %s", k, settled[k], moved[k])
		}
	}
	for prov, refs := range s.payoutRefs {
		handed := 0
		for _, p := range s.payouts.payouts() {
			if p.Provider == prov {
				handed++
			}
		}
		if handed != len(refs) {
			cover.failf("%s paid out %d times, the engine handed %d payouts to reconciliation", prov, len(refs), handed)
		}
	}
	out = append(out, sums.result(fmt.Sprintf("%d payouts", len(s.payouts.payouts()))),
		cover.result(fmt.Sprintf("%d provider/currency pairs", len(moved))))

	rec := &checker{name: "reconciliation matched every sale and refund and booked every payout"}
	if b == nil {
		rec.failf("no books were kept")
	} else {
		for _, u := range b.result.Unmatched {
			if u.Kind == commerce.TxSale || u.Kind == commerce.TxRefund {
				rec.failf("%s %s %s unmatched: %s", u.Payout, u.Transaction, u.Amount, u.Reason)
			}
		}
		for _, pr := range b.result.Payouts {
			if len(pr.Vouchers) == 0 {
				rec.failf("payout %s %s not booked: %s %s", pr.Provider, pr.ID, pr.Status, pr.Reason)
			}
		}
		for _, p := range b.result.Problems {
			rec.failf("%s %s: %s", p.Kind, p.Subject, p.Detail)
		}
		for _, p := range b.sales.Problems {
			rec.failf("sales: %s %s: %s", p.Kind, p.Subject, p.Detail)
		}
	}
	if b != nil {
		out = append(out, rec.result(fmt.Sprintf("%d transactions, %d matched", b.result.Summary.Transactions, b.result.Summary.TransactionsMatched)))
	} else {
		out = append(out, rec.result(""))
	}

	out = append(out, checkVouchers(b, siePath))
	out = append(out, checkOSS(b))

	// The journal: nothing pending, dead letters only where expected.
	journal := &checker{name: "the journal has nothing pending and dead letters only where expected"}
	if n, err := s.pending(ctx); err != nil || n > 0 {
		journal.failf("%d steps pending (%v)", n, err)
	}
	expected := map[string]bool{}
	for _, o := range s.orders {
		if expectDead(o) {
			expected[flow.OrderStepKey(shopID, o.Name)] = true
		}
	}
	for _, d := range dead {
		if !expected[d.Key] {
			journal.failf("unexpected dead letter %s: %s", d.Key, d.Reason)
		}
		delete(expected, d.Key)
	}
	for k := range expected {
		journal.failf("expected dead letter %s is missing", k)
	}
	out = append(out, journal.result(fmt.Sprintf("%d dead letters, all expected", len(dead))))

	queues := &checker{name: "the Specter change queues the flow reads are read and acknowledged"}
	read := []specter.Queue{specter.QueueOrders}
	if s.opts.flow != "shop" {
		read = append(read, specter.QueueArticles, specter.QueueStock)
	}
	for _, q := range read {
		if b, open := acc.OpenBatch(acc.Config().Users[0].ID, q); open || acc.Pending(acc.Config().Users[0].ID, q) > 0 {
			queues.failf("queue %s: open batch %q, %d pending", q, b, acc.Pending(acc.Config().Users[0].ID, q))
		}
	}
	out = append(out, queues.result(fmt.Sprint(read)))
	return out
}

// checkBusiness checks the business buyer's way into Specter: a company
// customer with the VAT number the plugin took from the order attribute,
// and orders without VAT (reverse charge).
func (s *sandbox) checkBusiness() check {
	c := &checker{name: "the business buyer is a company in Specter with its VAT number, invoiced without VAT"}
	acc := s.w.erp.Default()
	n := 0
	for _, o := range s.orders {
		if !o.Customer.business() {
			continue
		}
		n++
		so, ok := acc.OrderByExternalNo(o.Name)
		if !ok {
			c.failf("%s is not in Specter", o.Name)
			continue
		}
		cu, ok := acc.Customer(so.CustomerID)
		if !ok || cu.Form != "C" || cu.VATNo != o.Customer.VATNumber || cu.Name != o.Customer.Company {
			c.failf("%s: Specter customer %+v, want company %q with VAT number %s", o.Name, cu, o.Customer.Company, o.Customer.VATNumber)
		}
		for _, r := range so.Rows {
			if r.VATPercent != 0 {
				c.failf("%s: row %s at %d %% VAT", o.Name, r.ArticleNo, r.VATPercent)
			}
		}
	}
	if n == 0 {
		return check{Name: c.name, Pass: true, Detail: "no business order in this run"}
	}
	return c.result(fmt.Sprintf("%d orders", n))
}

// checkCatalogue checks the catalogue flow of the mode: products where the
// shop leads, prices and stock where the ERP leads.
func (s *sandbox) checkCatalogue() check {
	w, acc := s.w, s.w.erp.Default()
	c := &checker{}
	n := 0
	rate := decimal.NewFromInt(25)
	for _, p := range catalogue {
		for _, v := range p.Variants {
			n++
			a, inERP := acc.Article(v.SKU)
			sv, inShop := w.shop.VariantBySKU(v.SKU)
			if !inERP || !inShop {
				c.failf("%s: in Specter %v, in Shopify %v", v.SKU, inERP, inShop)
				continue
			}
			shopGross := decimal.RequireFromString(sv.Price)
			erpGross, err := vat.FromNet(commerce.NewMoney(a.PriceExclVAT, commerce.SEK), rate)
			if err != nil {
				c.failf("%s: %v", v.SKU, err)
				continue
			}
			switch s.opts.flow {
			case "shop":
				wantNet, err := vat.FromGross(commerce.NewMoney(shopGross, commerce.SEK), rate)
				if err == nil && !a.PriceExclVAT.Equal(wantNet.Net.Amount) {
					c.failf("%s: Specter %s excl. VAT, shop %s incl. → %s", v.SKU, a.PriceExclVAT, shopGross, wantNet.Net.Amount)
				}
			default:
				if !shopGross.Equal(erpGross.Gross.Amount) {
					c.failf("%s: shop price %s, Specter %s excl. VAT → %s", v.SKU, shopGross, a.PriceExclVAT, erpGross.Gross.Amount)
				}
				if got, ok := w.shop.InventoryLevel(v.SKU, w.location.ID); !ok || got != a.Stock[stockSite] {
					c.failf("%s: shop stock %d, Specter %d", v.SKU, got, a.Stock[stockSite])
				}
			}
		}
	}
	switch s.opts.flow {
	case "shop":
		c.name = "every shop variant is a Specter article priced at the shop's price excluding VAT"
	case "erp":
		c.name = "every Specter article is a shop variant with Specter's price including VAT and its stock"
	default:
		c.name = "every shop variant is a Specter article; shop prices and stock equal Specter's"
	}
	what := fmt.Sprintf("%d variants", n)
	if len(s.priceChanges) > 0 {
		what += fmt.Sprintf(", %d price changes in Specter", len(s.priceChanges))
	}
	return c.result(what)
}

// checkVouchers checks that every voucher balances, and that the SIE
// file reads back with the same vouchers, each balanced.
func checkVouchers(b *books, siePath string) check {
	c := &checker{name: "every voucher balances, and the SIE file reads back balanced"}
	if b == nil {
		c.failf("no books were kept")
		return c.result("")
	}
	for i := range b.vouchers {
		v := &b.vouchers[i]
		if err := v.Validate(); err != nil {
			c.failf("%s: %v", v.ID, err)
		}
	}
	raw, err := os.ReadFile(siePath)
	if err != nil {
		c.failf("%v", err)
		return c.result("")
	}
	f, err := sie.Read(bytes.NewReader(raw))
	if err != nil {
		c.failf("read back %s: %v", siePath, err)
		return c.result("")
	}
	if len(f.Vouchers) != len(b.vouchers) {
		c.failf("the SIE file has %d vouchers, the books %d", len(f.Vouchers), len(b.vouchers))
	}
	for i := range f.Vouchers {
		v := &f.Vouchers[i]
		if bal, err := v.Balance(); err != nil || !bal.IsZero() {
			c.failf("SIE voucher %s balances to %s (%v)", v.ID, bal.Amount, err)
		}
	}
	return c.result(fmt.Sprintf("%d vouchers", len(b.vouchers)))
}

// checkOSS checks the OSS return against the OSS invoices: per member
// state, the taxable amount and VAT of the quarter's invoices less its
// credit invoices (all in euros here, so no conversion is involved).
func checkOSS(b *books) check {
	c := &checker{name: "the OSS return declares the OSS invoices' VAT per member state"}
	if b == nil {
		c.failf("no books were kept")
		return c.result("")
	}
	want := map[string]decimal.Decimal{}
	for _, inv := range b.invoices {
		if inv.VATScheme != commerce.SchemeOSSUnion || vat.QuarterOf(inv.IssueDate) != b.quarter {
			continue
		}
		if inv.Currency != commerce.EUR {
			c.failf("OSS invoice %s in %s: the check expects euros", inv.Number, inv.Currency.Code())
		}
		v := inv.VAT.Amount
		if inv.IsCredit() {
			v = v.Neg()
		}
		want[inv.VATCountry] = want[inv.VATCountry].Add(v)
	}
	got := map[string]decimal.Decimal{}
	if b.oss != nil {
		for _, l := range b.oss.Lines {
			got[l.Country] = got[l.Country].Add(l.VAT.Amount)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !got[k].Equal(want[k]) {
			c.failf("%s: return declares %s EUR VAT, invoices %s", k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			c.failf("%s: declared %s without OSS invoices", k, got[k])
		}
	}
	return c.result(fmt.Sprintf("%d member states", len(want)))
}
