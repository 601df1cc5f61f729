package vat

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// SupplyKind tells goods from electronically supplied services: the place
// of supply rules differ.
type SupplyKind uint8

// Supply kinds.
const (
	Goods          SupplyKind = iota + 1 // physical goods dispatched to the buyer
	DigitalService                       // telecommunications, broadcasting and electronically supplied (TBE) services
)

// String names the kind.
func (k SupplyKind) String() string {
	switch k {
	case Goods:
		return "goods"
	case DigitalService:
		return "services"
	}
	return fmt.Sprintf("SupplyKind(%d)", uint8(k))
}

// Sale is what place-of-supply needs to know about one sale by a seller
// established (and, for goods, dispatching from) one EU member state.
type Sale struct {
	SellerCountry string // member state of establishment and dispatch
	BuyerCountry  string // where the goods arrive / where the customer belongs; XI for Northern Ireland
	Buyer         commerce.CustomerType
	// BuyerVATNumberValid is true only when the business buyer's VAT number
	// of another member state was checked (VIES Valid). Anything else makes
	// the buyer a consumer for VAT purposes.
	BuyerVATNumberValid bool
	BuyerVATNumber      string // printed in the reverse-charge wording
	Supply              SupplyKind
	Category            Category      // product category for the rate; Standard if none applies
	Date                commerce.Date // tax point: delivery (or payment for prepayments)
	OSSRegistered       bool          // the seller uses the OSS Union scheme
	// ThresholdExceeded is true when the seller's intra-EU distance sales
	// of goods and TBE services to consumers exceeded EUR 10,000 in the
	// previous calendar year, or do in the current one including this
	// sale (ThresholdTracker.Add tells).
	ThresholdExceeded bool
	// OptedForDestination is the seller's option (Art. 59c(3)) to tax all
	// such sales at destination even under the threshold.
	OptedForDestination bool
}

// Wording is text an invoice must carry, in English and Swedish.
type Wording struct {
	EN string `json:"en"`
	SV string `json:"sv"`
}

// Decision is where and how VAT applies to a sale.
type Decision struct {
	Scheme commerce.VATScheme `json:"scheme"`
	// Country is the ISO code of the country whose VAT rules govern the
	// sale: the seller's for domestic, under-threshold and export sales, the
	// buyer's for OSS, local destination VAT and reverse charge (where the
	// buyer accounts for it). XI for Northern Ireland.
	Country string `json:"country"`
	// RatePercent is the rate to charge on the invoice: 0 for reverse
	// charge and exports.
	RatePercent decimal.Decimal `json:"rate_percent"`
	Category    Category        `json:"category"`
	// Wording is the note the invoice must carry; empty when none is
	// required.
	Wording Wording `json:"wording,omitzero"`
	Reason  string  `json:"reason"`
}

// Decide applies the place-of-supply rules of the VAT Directive to a sale:
//
//   - buyer in the seller's country: domestic VAT;
//   - business buyer with a valid VAT number of another member state (or XI
//     for goods): exempt intra-EU supply of goods (Art. 138) or reverse
//     charge for services (Art. 44/196), 0 % with the required wording;
//   - buyer outside the EU VAT area (for services, Northern Ireland too):
//     export of goods (Art. 146) or a service outside the scope, 0 %;
//   - consumer (or business without a valid number) in another member state
//     or XI: the seller's VAT while the EUR 10,000 threshold is not exceeded
//     and no option was made (Art. 59c), otherwise the destination's VAT —
//     through OSS when registered, else commerce.SchemeDestinationLocal.
//
// Rates come from the dataset for the sale's Category and Date, so a
// missing category rate is an error, never the standard rate. Special
// territories (Canary Islands, Åland, …) are exports: pass their own
// country code or a non-EU code as BuyerCountry.
func Decide(s Sale) (Decision, error) {
	const op = "decide place of supply"
	si, ok := countryIndex(s.SellerCountry)
	if !ok || !countries[si].eu {
		return Decision{}, &Error{Op: op, Value: truncate(s.SellerCountry, 16), Err: ErrInvalid, Detail: "the seller must be established in an EU member state"}
	}
	if s.Supply != Goods && s.Supply != DigitalService {
		return Decision{}, &Error{Op: op, Value: s.Supply.String(), Err: ErrInvalid, Detail: "supply must be Goods or DigitalService"}
	}
	switch s.Buyer {
	case commerce.Consumer, commerce.Business:
	default:
		return Decision{}, &Error{Op: op, Value: string(s.Buyer), Err: ErrInvalid, Detail: "buyer must be consumer or business"}
	}
	if !s.Date.Valid() {
		return Decision{}, &Error{Op: op, Value: s.Date.String(), Err: ErrInvalid, Detail: "a tax point date is required"}
	}
	bi, inArea := countryIndex(s.BuyerCountry)
	if !inArea && !commerce.IsCountry(s.BuyerCountry) {
		return Decision{}, &Error{Op: op, Value: truncate(s.BuyerCountry, 16), Err: ErrUnknownCountry}
	}
	if inArea && !countries[bi].eu && s.Supply == DigitalService {
		inArea = false // Northern Ireland is in the EU VAT area for goods only
	}
	seller := countries[si].iso
	rateIn := func(ci int) (decimal.Decimal, error) {
		r, err := lookup(ci, s.Category, dayOf(s.Date))
		if err != nil {
			return decimal.Decimal{}, err
		}
		return r.rate, nil
	}
	d := Decision{Category: s.Category}

	switch {
	case !inArea:
		d.Scheme, d.Country, d.RatePercent = commerce.SchemeExport, seller, decimal.Zero
		if s.Supply == Goods {
			d.Reason = "goods dispatched outside the EU VAT area: exempt export"
			d.Wording = Wording{
				EN: "Export of goods outside the EU, exempt from VAT (Article 146 of Directive 2006/112/EC)",
				SV: "Export av varor utanför EU, undantagen från mervärdesskatt (artikel 146 i direktiv 2006/112/EG)",
			}
		} else {
			d.Reason = "service to a customer outside the EU VAT area: place of supply outside the EU"
			d.Wording = Wording{
				EN: "Place of supply outside the EU; no EU VAT charged (Articles 44 and 59 of Directive 2006/112/EC)",
				SV: "Omsättningen är inte gjord inom EU; ingen mervärdesskatt debiteras (artiklarna 44 och 59 i direktiv 2006/112/EG)",
			}
		}
		return d, nil

	case bi == si:
		r, err := rateIn(si)
		if err != nil {
			return Decision{}, err
		}
		d.Scheme, d.Country, d.RatePercent = commerce.SchemeDomestic, seller, r
		d.Reason = "buyer in the seller's member state: domestic VAT"
		return d, nil

	case s.Buyer == commerce.Business && s.BuyerVATNumberValid:
		d.Scheme, d.Country, d.RatePercent = commerce.SchemeReverseCharge, countries[bi].iso, decimal.Zero
		number := ""
		if s.BuyerVATNumber != "" {
			number = " " + s.BuyerVATNumber
		}
		if s.Supply == Goods {
			d.Reason = "goods to a business with a valid VAT number in another member state: exempt intra-EU supply"
			d.Wording = Wording{
				EN: "Intra-Community supply of goods, exempt from VAT (Article 138 of Directive 2006/112/EC). Buyer's VAT number:" + number,
				SV: "Unionsintern leverans, undantagen från skatteplikt (artikel 138 i direktiv 2006/112/EG). Köparens momsregistreringsnummer:" + number,
			}
		} else {
			d.Reason = "service to a business with a valid VAT number in another member state: the customer accounts for VAT"
			d.Wording = Wording{
				EN: "Reverse charge: VAT to be accounted for by the recipient (Article 196 of Directive 2006/112/EC). Buyer's VAT number:" + number,
				SV: "Omvänd betalningsskyldighet (artikel 196 i direktiv 2006/112/EG). Köparens momsregistreringsnummer:" + number,
			}
		}
		return d, nil

	case !s.ThresholdExceeded && !s.OptedForDestination:
		r, err := rateIn(si)
		if err != nil {
			return Decision{}, err
		}
		d.Scheme, d.Country, d.RatePercent = commerce.SchemeDomestic, seller, r
		d.Reason = "distance sale under the EUR 10,000 threshold: the seller's VAT"
		return d, nil

	default:
		r, err := rateIn(bi)
		if err != nil {
			return Decision{}, err
		}
		d.Country, d.RatePercent = countries[bi].iso, r
		if s.OSSRegistered {
			d.Scheme = commerce.SchemeOSSUnion
			d.Reason = "distance sale at destination: the buyer's VAT, declared through the OSS Union scheme"
		} else {
			d.Scheme = commerce.SchemeDestinationLocal
			d.Reason = "distance sale at destination without OSS: the buyer's VAT, declared through a local VAT registration there"
		}
		return d, nil
	}
}
