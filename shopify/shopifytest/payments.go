package shopifytest

import (
	"strings"

	"github.com/shopspring/decimal"
)

func (s *Server) paymentsAccountObj() object {
	st := s.st
	return object{
		"__typename":                "ShopifyPaymentsAccount",
		"id":                        gid("ShopifyPaymentsAccount", idBase+2),
		"activated":                 true,
		"onboardable":               false,
		"country":                   "SE",
		"defaultCurrency":           st.shopCurrency,
		"accountOpenerName":         nil,
		"payoutStatementDescriptor": nil,
		"balance":                   []any{money(decimal.Zero, st.shopCurrency)},
		"payoutSchedule":            object{"interval": "DAILY", "monthlyAnchor": nil, "weeklyAnchor": nil},
		"payouts": lazy(func(args map[string]any) (any, error) {
			q := parseSearch(str(args["query"]))
			want := str(args["transactionType"])
			c := &conn{}
			for _, id := range sortedKeys(st.payouts) {
				p := st.payouts[id]
				if want != "" && p.transactionType != want {
					continue
				}
				fields := func(f string) ([]string, bool) {
					switch f {
					case "id":
						return []string{legacy(p.id)}, true
					case "issued_at", "date":
						return []string{ts(p.issuedAt)}, true
					case "status":
						return []string{strings.ToLower(p.status)}, true
					}
					return nil, false
				}
				if !q.match(fields) {
					continue
				}
				key := sortID(id)
				if sk := str(args["sortKey"]); sk == "" || sk == "ISSUED_AT" {
					key = sortTime(p.issuedAt) + "|" + key
				}
				c.add(key, thunk(func() any { return s.payoutObj(p) }))
			}
			c.sortByKey()
			return c, nil
		}),
		"balanceTransactions": lazy(func(args map[string]any) (any, error) {
			q := parseSearch(str(args["query"]))
			hide, _ := args["hideTransfers"].(bool)
			c := &conn{}
			for _, id := range sortedKeys(st.balanceTxs) {
				bt := st.balanceTxs[id]
				if hide && bt.typ == "TRANSFER" {
					continue
				}
				fields := func(f string) ([]string, bool) {
					switch f {
					case "id":
						return []string{legacy(bt.id)}, true
					case "payout_id", "payments_transfer_id":
						return []string{legacy(bt.payoutID)}, true
					case "payout_status":
						return []string{strings.ToLower(bt.payoutStatus)}, true
					case "processed_at", "transaction_date":
						return []string{ts(bt.date)}, true
					case "type", "transaction_type":
						return []string{strings.ToLower(bt.typ)}, true
					case "source_id":
						return []string{legacy(bt.sourceID)}, true
					}
					return nil, false
				}
				if !q.match(fields) {
					continue
				}
				key := sortID(id)
				if sk := str(args["sortKey"]); sk == "" || sk == "PROCESSED_AT" {
					key = sortTime(bt.date) + "|" + key
				}
				c.add(key, thunk(func() any { return s.balanceTxObj(bt) }))
			}
			c.sortByKey()
			return c, nil
		}),
		"disputes":     lazy(func(map[string]any) (any, error) { return &conn{}, nil }),
		"bankAccounts": lazy(func(map[string]any) (any, error) { return &conn{}, nil }),
	}
}

func (s *Server) payoutObj(p *payout) object {
	m := func(a string) object { return money(decOrZero(a), p.currency) }
	sum := p.summary
	return object{
		"__typename":       "ShopifyPaymentsPayout",
		"id":               gid("ShopifyPaymentsPayout", p.id),
		"legacyResourceId": legacy(p.id),
		"status":           p.status,
		"issuedAt":         ts(p.issuedAt),
		"net":              money(p.net, p.currency),
		"gross":            money(p.net, p.currency),
		"transactionType":  p.transactionType,
		"externalTraceId":  nilIfEmpty(p.externalTraceID),
		"businessEntity":   s.businessEntityObj(),
		"summary": object{
			"chargesGross": m(sum.ChargesGross), "chargesFee": m(sum.ChargesFee),
			"refundsFeeGross": m(sum.RefundsFeeGross), "refundsFee": m(sum.RefundsFee),
			"adjustmentsGross": m(sum.AdjustmentsGross), "adjustmentsFee": m(sum.AdjustmentsFee),
			"reservedFundsGross": m(sum.ReservedFundsGross), "reservedFundsFee": m(sum.ReservedFundsFee),
			"retriedPayoutsGross": m(sum.RetriedPayoutsGross), "retriedPayoutsFee": m(sum.RetriedPayoutsFee),
			"advanceGross": m(""), "advanceFees": m(""), "usdcRebateCreditAmount": m(""),
		},
	}
}

func (s *Server) balanceTxObj(bt *balanceTx) object {
	o := object{
		"__typename":               "ShopifyPaymentsBalanceTransaction",
		"id":                       gid("ShopifyPaymentsBalanceTransaction", bt.id),
		"type":                     bt.typ,
		"test":                     bt.test,
		"amount":                   money(bt.amount, bt.currency),
		"fee":                      money(bt.fee, bt.currency),
		"net":                      money(bt.net, bt.currency),
		"transactionDate":          ts(bt.date),
		"sourceId":                 nil,
		"sourceType":               nilIfEmpty(bt.sourceType),
		"sourceOrderTransactionId": nil,
		"adjustmentReason":         nilIfEmpty(bt.adjustmentReason),
		"adjustmentsOrders":        []any{},
		"associatedOrder":          nil,
		"associatedPayout":         object{"id": nil, "status": nilIfEmpty(bt.payoutStatus)},
	}
	if bt.sourceID != 0 {
		o["sourceId"] = legacy(bt.sourceID)
	}
	if bt.sourceOrderTxID != 0 {
		o["sourceOrderTransactionId"] = legacy(bt.sourceOrderTxID)
	}
	if bt.orderID != 0 {
		o["associatedOrder"] = object{"id": gid("Order", bt.orderID), "name": bt.orderName}
	}
	if bt.payoutID != 0 {
		o["associatedPayout"] = object{"id": gid("ShopifyPaymentsPayout", bt.payoutID), "status": nilIfEmpty(bt.payoutStatus)}
	}
	return o
}

func (s *Server) businessEntityObj() object {
	return object{
		"__typename": "BusinessEntity", "id": gid("BusinessEntity", idBase+3), "displayName": s.opts.shop, "primary": true,
		"archived": false, "companyName": nil, "legalEntityId": nil,
		"address":                object{"address1": nil, "address2": nil, "city": nil, "countryCode": "SE", "province": nil, "zip": nil},
		"shopifyPaymentsAccount": lazy(func(map[string]any) (any, error) { return s.paymentsAccountObj(), nil }),
	}
}
