package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// SalesResult is the outcome of BookSales.
type SalesResult struct {
	// Vouchers are the sale vouchers booked now, one per document, in
	// input order.
	Vouchers []commerce.Voucher `json:"vouchers"`
	// Skipped are documents booked by an earlier run (the ledger).
	Skipped []DocumentRef `json:"skipped,omitempty"`
	// Problems are documents not booked, with the reason, and notices
	// about booked ones (an OSS rate that is not a rate of the member
	// state on the invoice date).
	Problems []Problem `json:"problems,omitempty"`
	// Pending is what Commit stores in the ledger.
	Pending []Entry `json:"-"`
}

// BookSales books invoices and credit invoices as sale vouchers, for books
// where the ERP does not book them itself (fakturametoden: at delivery, the
// invoice's issue date):
//
//   - the receivable: the provider's clearing account (AccountPlan.Receivable
//     or the provider's sub-account, taken from the order's payment), for the
//     gross less the part paid with a gift card, which is booked against the
//     gift-card liability (WithGiftCardProvider; orders give it);
//   - domestic sales (VATScheme domestic or empty) per rate on the
//     DomesticSales account and their VAT on DomesticVAT (3001/2611 …);
//   - OSS sales (commerce.SchemeOSSUnion) per member state and rate, as
//     vat.OSSSalesFromInvoices gives them: revenue on OSSSales (3106) with
//     the member state, VAT on OSSVAT (2670) with member state and rate;
//   - intra-EU B2B supplies under reverse charge on IntraEUSales (3108) and
//     exports on ExportSales (3105), both without VAT.
//
// A credit invoice is the mirror image. Amounts in another currency than
// the books are converted at the issue date (WithFXRates), the conversion's
// öre on the rounding account. Each voucher's id is "sale:<kind>:<number>";
// documents the ledger has booked are skipped, so booking twice books
// nothing new once Commit has run. A document that cannot be booked is
// listed in Problems; the others are booked.
func (r *Reconciler) BookSales(ctx context.Context, invoices []commerce.Invoice, orders []commerce.Order) (*SalesResult, error) {
	type orderData struct {
		provider, shop string
		gift           int64
		cur            commerce.Currency
	}
	ords := make(map[string]*orderData, len(orders))
	for i := range orders {
		o := &orders[i]
		num := normKey(o.Number)
		if _, dup := ords[num]; dup || num == "" {
			continue
		}
		od := &orderData{shop: o.Shop, cur: o.Currency}
		for _, p := range o.Payments {
			if p.Provider == r.giftCardProvider {
				if g, err := minorIn(p.Amount, o.Currency); err == nil && g > 0 {
					od.gift += g
				}
			} else if od.provider == "" {
				od.provider = p.Provider
			}
		}
		ords[num] = od
	}
	keys := make([]Key, 0, len(invoices))
	for i := range invoices {
		keys = append(keys, saleKey(&invoices[i]))
	}
	booked, err := r.ledger.Lookup(ctx, keys)
	if err != nil {
		return nil, errorf("book sales", "", err, "ledger lookup")
	}
	res := &SalesResult{}
	fx := newFXTable(r.fx)
	giftLeft := map[string]int64{}
	for i := range invoices {
		inv := &invoices[i]
		k := keys[i]
		ref := DocumentRef{Kind: DocumentKind(k.Scope), Number: k.ID}
		if _, ok := booked[k]; ok {
			res.Skipped = append(res.Skipped, ref)
			continue
		}
		od := ords[normKey(inv.OrderNumber)]
		var provider, shop string
		var gift int64
		if od != nil {
			provider, shop = od.provider, od.shop
			if inv.Kind == commerce.KindInvoice && od.cur == inv.Currency {
				left, seen := giftLeft[normKey(inv.OrderNumber)]
				if !seen {
					left = od.gift
				}
				if g, err := minorIn(inv.Gross, inv.Currency); err == nil {
					gift = min(left, g)
				}
				giftLeft[normKey(inv.OrderNumber)] = left - gift
			}
		}
		vo, notices, err := r.saleVoucher(inv, provider, shop, gift, fx)
		for _, n := range notices {
			res.Problems = append(res.Problems, Problem{Kind: ProblemDocument, Subject: ref.String(), Detail: n})
		}
		if err != nil {
			res.Problems = append(res.Problems, Problem{Kind: ProblemDocument, Subject: ref.String(), Detail: err.Error()})
			continue
		}
		res.Vouchers = append(res.Vouchers, *vo)
		res.Pending = append(res.Pending, Entry{Key: k, VoucherID: vo.ID})
	}
	return res, nil
}

// CommitSales records in the ledger what BookSales booked.
func (r *Reconciler) CommitSales(ctx context.Context, res *SalesResult) error {
	if err := r.ledger.Commit(ctx, res.Pending); err != nil {
		return errorf("commit sales", "", err, "")
	}
	return nil
}

func saleKey(inv *commerce.Invoice) Key {
	kind := DocInvoice
	if inv.IsCredit() {
		kind = DocCredit
	}
	return Key{Kind: KeySale, Scope: string(kind), ID: normKey(inv.Number)}
}

// saleRow is a row of a sale voucher in the invoice's currency.
type saleRow struct {
	account string
	amount  int64
	text    string
	dims    []commerce.Dimension
}

// saleVoucher books one invoice.
func (r *Reconciler) saleVoucher(inv *commerce.Invoice, provider, shop string, gift int64, fx *fxTable) (*commerce.Voucher, []string, error) {
	const op = "book sale"
	if err := inv.Validate(); err != nil {
		return nil, nil, errorf(op, inv.Number, fmt.Errorf("%w: %w", ErrInvalidInput, err), "")
	}
	if !inv.IssueDate.Valid() {
		return nil, nil, errorf(op, inv.Number, ErrInvalidInput, "no issue date")
	}
	cur := inv.Currency
	gross, err := minorIn(inv.Gross, cur)
	if err != nil {
		return nil, nil, errorf(op, inv.Number, err, "gross")
	}
	sign := int64(1) // credit rows for an invoice, debit rows for a credit invoice
	if inv.IsCredit() {
		sign = -1
	}
	plan := &r.plan
	unit := plan.resultUnit(shop)
	var rows []saleRow
	var notices []string
	addRevenue := func(account string, taxable int64, text string, dims []commerce.Dimension) {
		rows = append(rows, saleRow{account: account, amount: -sign * taxable, text: text, dims: dims})
	}
	groups := inv.VATByRate
	if len(groups) == 0 {
		if groups, err = inv.GroupVAT(); err != nil {
			return nil, nil, errorf(op, inv.Number, err, "")
		}
	}
	var vatSum, taxSum int64
	for _, g := range groups {
		t, err1 := minorIn(g.Taxable, cur)
		v, err2 := minorIn(g.VAT, cur)
		if err1 != nil || err2 != nil {
			return nil, nil, errorf(op, inv.Number, ErrInvalidInput, fmt.Sprintf("VAT group %s%%: not exact in %s", g.RatePercent, cur.Code()))
		}
		taxSum += t
		vatSum += v
	}
	if taxSum+vatSum != gross {
		return nil, nil, errorf(op, inv.Number, ErrInvalidInput, fmt.Sprintf("VAT groups sum to %s, gross is %s", money(taxSum+vatSum, cur), inv.Gross))
	}
	switch inv.VATScheme {
	case commerce.SchemeDomestic, "":
		for _, g := range groups {
			key := rateKey(g.RatePercent)
			sales := plan.DomesticSales[key]
			if sales == "" {
				return nil, nil, errorf(op, inv.Number, &AccountError{Field: "DomesticSales[" + key + "]", Reason: "no sales account for this VAT rate"}, "")
			}
			t, _ := minorIn(g.Taxable, cur)
			v, _ := minorIn(g.VAT, cur)
			addRevenue(sales, t, "", unit)
			if v != 0 {
				acct := plan.DomesticVAT[key]
				if acct == "" {
					return nil, nil, errorf(op, inv.Number, &AccountError{Field: "DomesticVAT[" + key + "]", Reason: "no output VAT account for this rate"}, "")
				}
				rows = append(rows, saleRow{account: acct, amount: -sign * v})
			}
		}
	case commerce.SchemeOSSUnion:
		sales, err := vat.OSSSalesFromInvoices([]commerce.Invoice{*inv}, nil)
		if err != nil {
			return nil, nil, errorf(op, inv.Number, err, "")
		}
		for _, s := range sales {
			country, err := vat.VATPrefix(s.Country)
			if err != nil {
				return nil, nil, errorf(op, inv.Number, err, "")
			}
			if n := checkOSSRate(country, s.RatePercent, inv.IssueDate); n != "" {
				notices = append(notices, n)
			}
			// OSSSale amounts are negative for a credit; undo that, since
			// the voucher rows take their sign from the document kind. A
			// negative group on an invoice (an öre rounding row) keeps
			// its sign.
			t, _ := minorIn(inv.Signed(s.Taxable), cur)
			v, _ := minorIn(inv.Signed(s.VAT), cur)
			revenue := plan.OSSSales
			if a := plan.OSSSalesByCountry[country]; a != "" {
				revenue = a
			}
			vatKey := ossVATKey(country, s.RatePercent)
			vatAcct := plan.OSSVAT
			if a := plan.OSSVATByCountryRate[vatKey]; a != "" {
				vatAcct = a
			}
			revDims, vatDims := unit, []commerce.Dimension(nil)
			if plan.OSSDimension > 0 {
				revDims = append(slices.Clone(unit), commerce.Dimension{Dim: plan.OSSDimension, Object: country})
				vatDims = []commerce.Dimension{{Dim: plan.OSSDimension, Object: vatKey}}
			}
			addRevenue(revenue, t, country, revDims)
			if v != 0 {
				rows = append(rows, saleRow{account: vatAcct, amount: -sign * v, text: country + " " + rateKey(s.RatePercent) + " %", dims: vatDims})
			}
		}
	case commerce.SchemeReverseCharge, commerce.SchemeExport:
		if vatSum != 0 {
			return nil, nil, errorf(op, inv.Number, ErrInvalidInput, fmt.Sprintf("%s invoice with VAT %s", inv.VATScheme, money(vatSum, cur)))
		}
		acct, text := plan.IntraEUSales, strings.ToUpper(inv.VATCountry)
		if inv.VATScheme == commerce.SchemeExport {
			acct = plan.ExportSales
		}
		addRevenue(acct, taxSum, text, unit)
	default:
		return nil, nil, errorf(op, inv.Number, ErrUnsupported, fmt.Sprintf("VAT scheme %q has no accounts in the plan", inv.VATScheme))
	}
	recv := []saleRow{{account: plan.receivable(provider), amount: sign * (gross - gift), dims: unit}}
	if gift > 0 {
		recv = append(recv, saleRow{account: plan.GiftCardLiability, amount: sign * gift, text: "Presentkort", dims: unit})
	}
	rows = append(recv, rows...)

	book := r.book
	if cur != book {
		rate, err := fx.rate(cur, book, inv.IssueDate)
		if err != nil {
			return nil, notices, errorf(op, inv.Number, err, "")
		}
		var sum int64
		for j := range rows {
			rows[j].amount = convert(rows[j].amount, cur, book, rate)
			sum += rows[j].amount
		}
		if abs64(sum) > int64(len(rows)) {
			return nil, notices, errorf(op, inv.Number, ErrUnbalanced, "conversion left "+money(sum, book).String())
		}
		if sum != 0 {
			rows = append(rows, saleRow{account: plan.Rounding, amount: -sum, text: "Öresavrundning"})
		}
	}
	kind, label := DocInvoice, "Faktura "
	if inv.IsCredit() {
		kind, label = DocCredit, "Kreditfaktura "
	}
	text := label + normKey(inv.Number)
	if inv.VATScheme == commerce.SchemeOSSUnion {
		text += " OSS " + strings.ToUpper(inv.VATCountry)
	}
	if o := normKey(inv.OrderNumber); o != "" {
		text += " order " + o
	}
	vo := &commerce.Voucher{
		ID:      "sale:" + string(kind) + ":" + normKey(inv.Number),
		Series:  r.series,
		Date:    inv.IssueDate,
		Text:    limitText(text),
		Sources: []string{inv.Number},
	}
	for _, rw := range rows {
		if rw.amount == 0 {
			continue
		}
		vo.Postings = append(vo.Postings, commerce.Posting{Account: rw.account, Amount: money(rw.amount, book), Text: rw.text, Dimensions: rw.dims})
	}
	if err := vo.Validate(); err != nil {
		return nil, notices, errorf(op, inv.Number, fmt.Errorf("%w: %w", ErrUnbalanced, err), "")
	}
	return vo, notices, nil
}

// checkOSSRate says when rate is none of the member state's rates on the
// invoice date (vat.Levels), which usually means the invoice charged the
// wrong country's VAT. Zero rates are category rates in vat and pass.
func checkOSSRate(country string, rate decimal.Decimal, d commerce.Date) string {
	if rate.IsZero() {
		return ""
	}
	lv, err := vat.Levels(country, d)
	if err != nil {
		return fmt.Sprintf("OSS rate %s%% for %s not checked: %v", rate, country, err)
	}
	if rate.Equal(lv.Standard) {
		return ""
	}
	for _, l := range [][]decimal.Decimal{lv.Reduced, lv.SuperReduced, lv.Parking} {
		if slices.ContainsFunc(l, rate.Equal) {
			return ""
		}
	}
	return fmt.Sprintf("OSS rate %s%% is not a rate of %s on %s", rate, country, d)
}

// OSSQuarter returns the OSS sales of quarter q for vat.BuildOSSReturn:
// the OSS invoices and credit invoices (VATScheme commerce.SchemeOSSUnion)
// issued in q, per member state and rate, credits negative. A credit
// invoice that credits an invoice of an earlier quarter, found among invs
// by number, is reported in that quarter, which makes it a correction line
// of the return; other documents of q are reported in q.
func OSSQuarter(invs []commerce.Invoice, q vat.Quarter) ([]vat.OSSSale, error) {
	issued := make(map[string]vat.Quarter, len(invs))
	for i := range invs {
		if !invs[i].IsCredit() {
			issued[normKey(invs[i].Number)] = vat.QuarterOf(invs[i].IssueDate)
		}
	}
	var in []commerce.Invoice
	for i := range invs {
		if invs[i].VATScheme == commerce.SchemeOSSUnion && vat.QuarterOf(invs[i].IssueDate) == q {
			in = append(in, invs[i])
		}
	}
	sales, err := vat.OSSSalesFromInvoices(in, func(inv *commerce.Invoice) vat.Quarter {
		if inv.IsCredit() {
			if oq, ok := issued[normKey(inv.Credits)]; ok && oq.Compare(q) < 0 {
				return oq
			}
		}
		return q
	})
	if err != nil {
		return nil, errorf("oss quarter", q.String(), err, "")
	}
	return sales, nil
}
