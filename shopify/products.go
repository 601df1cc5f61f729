package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

type wireProduct struct {
	ID               string     `json:"id"`
	LegacyResourceID flexString `json:"legacyResourceId"`
	Handle           string     `json:"handle"`
	Title            string     `json:"title"`
	DescriptionHTML  string     `json:"descriptionHtml"`
	Vendor           string     `json:"vendor"`
	ProductType      string     `json:"productType"`
	Status           string     `json:"status"`
	Tags             []string   `json:"tags"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
	Options          []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"options"`
	Variants struct {
		PageInfo pageInfo          `json:"pageInfo"`
		Nodes    []json.RawMessage `json:"nodes"`
	} `json:"variants"`
}

type wireVariant struct {
	ID              string    `json:"id"`
	SKU             string    `json:"sku"`
	Barcode         string    `json:"barcode"`
	Title           string    `json:"title"`
	Price           string    `json:"price"`
	CompareAtPrice  *string   `json:"compareAtPrice"`
	Taxable         bool      `json:"taxable"`
	UpdatedAt       time.Time `json:"updatedAt"`
	SelectedOptions []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"selectedOptions"`
	InventoryItem struct {
		ID          string   `json:"id"`
		Tracked     bool     `json:"tracked"`
		UnitCost    *moneyV2 `json:"unitCost"`
		Measurement struct {
			Weight *struct {
				Value json.Number `json:"value"`
				Unit  string      `json:"unit"`
			} `json:"weight"`
		} `json:"measurement"`
	} `json:"inventoryItem"`
}

// Shopify's placeholder option of a product without options.
const (
	defaultOptionName  = "Title"
	defaultOptionValue = "Default Title"
)

var weightUnits = map[string]commerce.WeightUnit{
	"GRAMS": commerce.Grams, "KILOGRAMS": commerce.Kilograms, "OUNCES": commerce.Ounces, "POUNDS": commerce.Pounds,
}

func (c *Client) ref(id string) commerce.Ref {
	return commerce.Ref{System: systemName, Account: c.shop, ID: id}
}

// mapProduct maps a product node and its variant nodes to the canonical
// product and validates it.
func (c *Client) mapProduct(raw json.RawMessage, p wireProduct, variants []json.RawMessage, s shopSettings) (commerce.Product, error) {
	op := "MapProduct"
	out := commerce.Product{
		Origin:      commerce.Origin{Source: c.ref(p.ID), Raw: raw},
		Handle:      p.Handle,
		Title:       p.Title,
		Description: p.DescriptionHTML,
		Vendor:      p.Vendor,
		ProductType: p.ProductType,
		Tags:        p.Tags,
		UpdatedAt:   p.UpdatedAt,
	}
	switch p.Status {
	case "ACTIVE":
		out.Status = commerce.ProductActive
	case "UNLISTED": // sold, only hidden from listings and search
		out.Status = commerce.ProductUnlisted
	case "DRAFT":
		out.Status = commerce.ProductDraft
	case "ARCHIVED":
		out.Status = commerce.ProductArchived
	default:
		return out, invalid(op, "status", fmt.Errorf("unknown product status %q", p.Status))
	}
	for _, o := range p.Options {
		if o.Name == defaultOptionName && len(o.Values) == 1 && o.Values[0] == defaultOptionValue {
			continue
		}
		out.Options = append(out.Options, commerce.Option{Name: o.Name, Values: o.Values})
	}
	for i, rv := range variants {
		var v wireVariant
		if err := json.Unmarshal(rv, &v); err != nil {
			return out, invalid(op, fmt.Sprintf("variants[%d]", i), err)
		}
		mv, err := c.mapVariant(rv, v, s, out.Status == commerce.ProductActive || out.Status == commerce.ProductUnlisted)
		if err != nil {
			var ce *connector.Error
			if errors.As(err, &ce) {
				ce.Field = fmt.Sprintf("variants[%d].%s", i, ce.Field)
			}
			return out, err
		}
		out.Variants = append(out.Variants, mv)
	}
	if err := out.Validate(); err != nil {
		return out, invalid(op, "", err)
	}
	return out, nil
}

func (c *Client) mapVariant(raw json.RawMessage, v wireVariant, s shopSettings, active bool) (commerce.Variant, error) {
	op := "MapProduct"
	out := commerce.Variant{
		Origin:           commerce.Origin{Source: c.ref(v.ID), Raw: raw},
		SKU:              v.SKU,
		Barcode:          v.Barcode,
		Title:            v.Title,
		PricesIncludeTax: s.TaxesIncluded,
		Active:           active,
	}
	if !v.Taxable {
		zero := decimal.Zero
		out.VATRatePercent = &zero
	}
	for _, o := range v.SelectedOptions {
		if o.Name == defaultOptionName && o.Value == defaultOptionValue {
			continue
		}
		out.Options = append(out.Options, commerce.OptionValue{Name: o.Name, Value: o.Value})
	}
	price, err := commerce.ParseMoney(v.Price, s.Currency.Code())
	if err != nil {
		return out, invalid(op, "price", err)
	}
	out.Price = price
	if v.CompareAtPrice != nil && *v.CompareAtPrice != "" {
		cap, err := commerce.ParseMoney(*v.CompareAtPrice, s.Currency.Code())
		if err != nil {
			return out, invalid(op, "compare_at_price", err)
		}
		out.CompareAtPrice = &cap
	}
	if uc := v.InventoryItem.UnitCost; uc != nil && uc.Amount != "" {
		cost, err := uc.price()
		if err != nil {
			return out, invalid(op, "cost", err)
		}
		out.Cost = &cost
	}
	if w := v.InventoryItem.Measurement.Weight; w != nil && w.Value != "" {
		unit, ok := weightUnits[w.Unit]
		if !ok {
			return out, invalid(op, "weight.unit", fmt.Errorf("unknown weight unit %q", w.Unit))
		}
		d, err := decimalFromNumber(w.Value)
		if err != nil {
			return out, invalid(op, "weight.value", err)
		}
		out.Weight = &commerce.Weight{Value: d, Unit: unit}
	}
	return out, nil
}

// Products is the product feed: products updated since the cursor, oldest
// first, with all their variants. Commit is a no-op (watermark feed).
func (c *Client) Products() connector.Feed[commerce.Product] {
	return &watermarkFeed[commerce.Product, json.RawMessage]{
		fetch:  c.fetchRawPage(docProductsFeed, "products", map[string]any{"variants": 10}),
		key:    nodeKey,
		mapAll: c.mapProductNodes,
	}
}

// nodeKey reads a node's id and updatedAt without decoding the rest.
func nodeKey(raw json.RawMessage) (time.Time, string) {
	var k struct {
		ID        string    `json:"id"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	_ = json.Unmarshal(raw, &k) // a broken node fails in the mapping, with a proper error
	return k.UpdatedAt, k.ID
}

func (c *Client) mapProductNodes(ctx context.Context, _ time.Time, nodes []json.RawMessage, problems *[]connector.ItemProblem) ([]commerce.Product, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	s, err := c.settings(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]commerce.Product, 0, len(nodes))
	for _, raw := range nodes {
		p, err := c.productFromNode(ctx, raw, s)
		if err != nil {
			if err := c.skipInvalid(ctx, "product", c.ref(p.Source.ID), err, problems); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// skipInvalid decides about an item that failed to map: an error other
// than KindValidation stands; an item the model refuses goes to the
// WithInvalidHandler handler, or without one into problems (a nil
// problems — the bulk export has no batch — lets the error stand). A nil
// answer skips the item.
func (c *Client) skipInvalid(ctx context.Context, entity string, ref commerce.Ref, err error, problems *[]connector.ItemProblem) error {
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindValidation {
		return err
	}
	if c.cfg.onInvalid != nil {
		return c.cfg.onInvalid(ctx, Invalid{Entity: entity, Ref: ref, Err: err})
	}
	if problems == nil {
		return err
	}
	*problems = append(*problems, connector.ItemProblem{Entity: entity, Ref: ref, Err: err})
	return nil
}

// productFromNode maps one product node, reading the rest of its variants
// when the node carries only the first page.
func (c *Client) productFromNode(ctx context.Context, raw json.RawMessage, s shopSettings) (commerce.Product, error) {
	var p wireProduct
	if err := json.Unmarshal(raw, &p); err != nil {
		return commerce.Product{Origin: commerce.Origin{Source: c.ref(nodeID(raw))}}, invalid("MapProduct", "", err)
	}
	variants := p.Variants.Nodes
	info := p.Variants.PageInfo
	for info.HasNextPage && info.EndCursor != "" {
		vars := map[string]any{"id": p.ID, "after": info.EndCursor}
		c.pageSize(docProductVariantsPage, vars, "first", 250)
		var out struct {
			Product *struct {
				Variants struct {
					PageInfo pageInfo          `json:"pageInfo"`
					Nodes    []json.RawMessage `json:"nodes"`
				} `json:"variants"`
			} `json:"product"`
		}
		if _, err := c.Execute(ctx, docProductVariantsPage, vars, &out); err != nil {
			return commerce.Product{}, err
		}
		if out.Product == nil {
			return commerce.Product{}, &connector.Error{System: systemName, Op: "ProductVariantsPage", Kind: connector.KindNotFound, Message: "product " + p.ID + " disappeared while reading its variants"}
		}
		variants = append(variants, out.Product.Variants.Nodes...)
		info = out.Product.Variants.PageInfo
	}
	return c.mapProduct(raw, p, variants, s)
}

func nodeID(raw json.RawMessage) string {
	_, id := nodeKey(raw)
	return id
}

// variantRef is what a SKU lookup finds.
type variantRef struct {
	SKU            string
	VariantID      string
	ProductID      string
	ProductHandle  string
	InventoryID    string
	Price          string
	CompareAtPrice *string
}

// lookupSKUs finds the variants with the given SKUs (exact, case-sensitive
// match), 50 SKUs per request. A SKU found on more than one variant is a
// conflict.
func (c *Client) lookupSKUs(ctx context.Context, skus []string) (map[string]variantRef, error) {
	found := map[string]variantRef{}
	var mu sync.Mutex
	uniq := slices.Compact(slices.Sorted(slices.Values(skus)))
	chunks := slices.Collect(slices.Chunk(uniq, 50))
	errs := make([]error, len(chunks))
	c.forEach(ctx, len(chunks), func(ctx context.Context, i int) {
		errs[i] = c.lookupChunk(ctx, chunks[i], func(r variantRef) error {
			mu.Lock()
			defer mu.Unlock()
			if prev, dup := found[r.SKU]; dup && prev.VariantID != r.VariantID {
				return &connector.Error{System: systemName, Op: "LookupSKU", Kind: connector.KindConflict, Field: "sku",
					Message: fmt.Sprintf("SKU %q is on more than one variant (%s, %s)", r.SKU, prev.VariantID, r.VariantID)}
			}
			found[r.SKU] = r
			return nil
		})
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, connector.Wrap(systemName, "LookupSKU", err)
	}
	return found, nil
}

// lookupChunk looks up at most 50 SKUs and hands each exact match to add.
func (c *Client) lookupChunk(ctx context.Context, chunk []string, add func(variantRef) error) error {
	terms := make([]string, len(chunk))
	want := map[string]bool{}
	for i, s := range chunk {
		terms[i] = "sku:" + searchValue(s)
		want[s] = true
	}
	vars := map[string]any{"query": strings.Join(terms, " OR ")}
	// A SKU is normally on one variant; the search may match more
	// loosely, so the pages continue until Shopify has no more.
	c.pageSize(docVariantsBySKU, vars, "first", min(250, 2*len(chunk)))
	for {
		var out struct {
			ProductVariants struct {
				PageInfo pageInfo `json:"pageInfo"`
				Nodes    []struct {
					ID             string  `json:"id"`
					SKU            string  `json:"sku"`
					Price          string  `json:"price"`
					CompareAtPrice *string `json:"compareAtPrice"`
					Product        struct {
						ID     string `json:"id"`
						Handle string `json:"handle"`
					} `json:"product"`
					InventoryItem struct {
						ID string `json:"id"`
					} `json:"inventoryItem"`
				} `json:"nodes"`
			} `json:"productVariants"`
		}
		if _, err := c.Execute(ctx, docVariantsBySKU, vars, &out); err != nil {
			return err
		}
		for _, n := range out.ProductVariants.Nodes {
			if !want[n.SKU] {
				continue // search matches loosely; SKUs are exact
			}
			if err := add(variantRef{SKU: n.SKU, VariantID: n.ID, ProductID: n.Product.ID, ProductHandle: n.Product.Handle,
				InventoryID: n.InventoryItem.ID, Price: n.Price, CompareAtPrice: n.CompareAtPrice}); err != nil {
				return err
			}
		}
		pi := out.ProductVariants.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			return nil
		}
		vars["after"] = pi.EndCursor
	}
}

// ProductBySKU returns the product that has a variant with the SKU.
func (c *Client) ProductBySKU(ctx context.Context, sku string) (commerce.Product, error) {
	if sku == "" {
		return commerce.Product{}, &connector.Error{System: systemName, Op: "ProductBySKU", Kind: connector.KindValidation, Field: "sku", Message: "missing"}
	}
	refs, err := c.lookupSKUs(ctx, []string{sku})
	if err != nil {
		return commerce.Product{}, err
	}
	r, ok := refs[sku]
	if !ok {
		return commerce.Product{}, &connector.Error{System: systemName, Op: "ProductBySKU", Kind: connector.KindNotFound, Field: "sku", Message: fmt.Sprintf("no variant with SKU %q", sku)}
	}
	return c.productByID(ctx, r.ProductID)
}

func (c *Client) productByID(ctx context.Context, id string) (commerce.Product, error) {
	s, err := c.settings(ctx)
	if err != nil {
		return commerce.Product{}, err
	}
	var out struct {
		Product json.RawMessage `json:"product"`
	}
	if _, err := c.Execute(ctx, docProduct, map[string]any{"id": id, "variants": 50}, &out); err != nil {
		return commerce.Product{}, err
	}
	if len(out.Product) == 0 || string(out.Product) == "null" {
		return commerce.Product{}, &connector.Error{System: systemName, Op: "Product", Kind: connector.KindNotFound, Message: "no product " + id}
	}
	return c.productFromNode(ctx, out.Product, s)
}

// UpsertProducts creates or updates each product with its variants using
// productSet, keyed so that a repeated call cannot create a duplicate:
// variants are first looked up by SKU, and a product whose SKUs exist is
// updated by its id; a new product is created under a handle derived
// deterministically from it (its Handle, else its title and first SKU), so
// a retry of a create that took effect updates it. productSet replaces the
// variant list: the variants given are the product's variants afterwards.
//
// Every product is validated (SKUs present and unique, prices exact in the
// shop's currency) before anything is written. results[i] belongs to
// products[i]; a product that failed has a zero result and its error is
// joined into the returned error. Key is the product's first SKU.
func (c *Client) UpsertProducts(ctx context.Context, products []commerce.Product, opts ...connector.CallOption) ([]connector.UpsertResult, error) {
	const op = "UpsertProducts"
	co := connector.ApplyCallOptions(opts)
	if len(products) == 0 {
		return nil, nil
	}
	s, err := c.settings(ctx)
	if err != nil {
		return nil, err
	}
	var skus []string
	var verrs []error
	for i := range products {
		if err := c.checkProduct(&products[i], s); err != nil {
			verrs = append(verrs, fmt.Errorf("products[%d]: %w", i, err))
		}
		for _, v := range products[i].Variants {
			skus = append(skus, v.SKU)
		}
	}
	if len(verrs) > 0 {
		return nil, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid products; nothing written", Err: errors.Join(verrs...)}
	}
	existing, err := c.lookupSKUs(ctx, skus)
	if err != nil {
		return nil, err
	}
	inputs := make([]productSetCall, len(products))
	for i := range products {
		call, err := c.productSetInput(&products[i], existing, s)
		if err != nil {
			verrs = append(verrs, fmt.Errorf("products[%d]: %w", i, err))
		}
		inputs[i] = call
	}
	if len(verrs) > 0 {
		return nil, errors.Join(verrs...)
	}
	if co.DryRun {
		results := make([]connector.UpsertResult, len(products))
		for i, in := range inputs {
			results[i] = connector.UpsertResult{Key: in.key, Ref: c.ref(in.productID), Created: in.productID == ""}
		}
		return results, nil
	}
	results := make([]connector.UpsertResult, len(products))
	errs := make([]error, len(products))
	c.forEach(ctx, len(inputs), func(ctx context.Context, i int) {
		results[i], errs[i] = c.productSet(ctx, inputs[i])
		if errs[i] != nil {
			errs[i] = fmt.Errorf("product %q: %w", inputs[i].key, errs[i])
		}
	})
	return results, errors.Join(errs...)
}

// forEach runs fn for 0..n-1 with the configured concurrency; it stops
// starting new work once ctx ends.
func (c *Client) forEach(ctx context.Context, n int, fn func(context.Context, int)) {
	workers := min(c.cfg.concurrency, n)
	if workers <= 1 {
		for i := range n {
			if ctx.Err() != nil {
				return
			}
			fn(ctx, i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(ctx, i)
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// checkProduct validates a product for writing to this shop.
func (c *Client) checkProduct(p *commerce.Product, s shopSettings) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for i, v := range p.Variants {
		if v.Price.Currency != s.Currency {
			return fmt.Errorf("variants[%d].price: in %s, but the shop's prices are in %s (use a price list for other currencies): %w", i, v.Price.Currency, s.Currency, commerce.ErrCurrencyMismatch)
		}
		if err := v.Price.ValidateExact(); err != nil {
			return fmt.Errorf("variants[%d].price: %w", i, err)
		}
		if v.CompareAtPrice != nil {
			if err := v.CompareAtPrice.ValidateExact(); err != nil {
				return fmt.Errorf("variants[%d].compare_at_price: %w", i, err)
			}
		}
	}
	return nil
}

type productSetCall struct {
	key        string
	productID  string // known product id, "" for a new product
	identifier map[string]any
	input      map[string]any
	variants   int
}

// productSetInput builds the productSet variables.
func (c *Client) productSetInput(p *commerce.Product, existing map[string]variantRef, s shopSettings) (productSetCall, error) {
	call := productSetCall{key: p.Variants[0].SKU, variants: len(p.Variants)}
	ids := map[string]bool{}
	for _, v := range p.Variants {
		if r, ok := existing[v.SKU]; ok {
			ids[r.ProductID] = true
		}
	}
	if p.Source.System == systemName && (p.Source.Account == "" || p.Source.Account == c.shop) && isGIDOf(p.Source.ID, "Product") {
		ids[p.Source.ID] = true
	}
	switch len(ids) {
	case 0:
	case 1:
		for id := range ids {
			call.productID = id
		}
	default:
		return call, &connector.Error{System: systemName, Op: "UpsertProducts", Kind: connector.KindConflict, Field: "variants",
			Message: fmt.Sprintf("the product's SKUs belong to %d different Shopify products", len(ids))}
	}
	handle := p.Handle
	if handle == "" && call.productID == "" {
		handle = slug(p.Title + " " + p.Variants[0].SKU)
	}
	if call.productID != "" {
		call.identifier = map[string]any{"id": call.productID}
	} else {
		call.identifier = map[string]any{"handle": handle}
	}
	in := map[string]any{"title": p.Title}
	if handle != "" {
		in["handle"] = handle
	}
	if p.Description != "" {
		in["descriptionHtml"] = p.Description
	}
	if p.Vendor != "" {
		in["vendor"] = p.Vendor
	}
	if p.ProductType != "" {
		in["productType"] = p.ProductType
	}
	if p.Tags != nil {
		in["tags"] = p.Tags
	}
	switch p.Status {
	case commerce.ProductActive:
		in["status"] = "ACTIVE"
	case commerce.ProductDraft:
		in["status"] = "DRAFT"
	case commerce.ProductArchived:
		in["status"] = "ARCHIVED"
	case commerce.ProductUnlisted:
		in["status"] = "UNLISTED"
	case "":
	default:
		return call, &connector.Error{System: systemName, Op: "UpsertProducts", Kind: connector.KindValidation, Field: "status", Message: fmt.Sprintf("unknown status %q", p.Status)}
	}
	options, values, err := productOptions(p)
	if err != nil {
		return call, err
	}
	in["productOptions"] = options
	variants := make([]map[string]any, len(p.Variants))
	for i, v := range p.Variants {
		vi := map[string]any{
			"sku":          v.SKU,
			"price":        v.Price.Amount.StringFixed(s.Currency.Digits()),
			"optionValues": values[i],
		}
		if r, ok := existing[v.SKU]; ok && r.ProductID == call.productID {
			vi["id"] = r.VariantID
		}
		if v.CompareAtPrice != nil {
			vi["compareAtPrice"] = v.CompareAtPrice.Amount.StringFixed(s.Currency.Digits())
		} else {
			vi["compareAtPrice"] = nil
		}
		if v.Barcode != "" {
			vi["barcode"] = v.Barcode
		}
		if v.VATRatePercent != nil {
			vi["taxable"] = !v.VATRatePercent.IsZero()
		}
		item := map[string]any{"tracked": true}
		if v.Cost != nil {
			item["cost"] = v.Cost.Amount.String()
		}
		if v.Weight != nil {
			unit := ""
			for k, u := range weightUnits {
				if u == v.Weight.Unit {
					unit = k
				}
			}
			if unit == "" {
				return call, &connector.Error{System: systemName, Op: "UpsertProducts", Kind: connector.KindValidation, Field: fmt.Sprintf("variants[%d].weight.unit", i), Message: fmt.Sprintf("unknown unit %q", v.Weight.Unit)}
			}
			item["measurement"] = map[string]any{"weight": map[string]any{"unit": unit, "value": v.Weight.Value.InexactFloat64()}}
		}
		vi["inventoryItem"] = item
		variants[i] = vi
	}
	in["variants"] = variants
	call.input = in
	return call, nil
}

// productOptions derives the product's options and each variant's option
// values. A product without options gets Shopify's placeholder "Title"
// option; several variants without options are told apart by their title
// (or SKU) under that option, since Shopify requires distinct values.
func productOptions(p *commerce.Product) ([]map[string]any, [][]map[string]any, error) {
	names := []string{}
	valuesOf := map[string][]string{}
	addValue := func(name, value string) {
		if _, ok := valuesOf[name]; !ok {
			names = append(names, name)
		}
		if !slices.Contains(valuesOf[name], value) {
			valuesOf[name] = append(valuesOf[name], value)
		}
	}
	for _, o := range p.Options {
		for _, v := range o.Values {
			addValue(o.Name, v)
		}
	}
	anyOptions := len(p.Options) > 0
	for _, v := range p.Variants {
		if len(v.Options) > 0 {
			anyOptions = true
		}
	}
	perVariant := make([][]map[string]any, len(p.Variants))
	if !anyOptions {
		for i, v := range p.Variants {
			value := defaultOptionValue
			if len(p.Variants) > 1 {
				value = v.Title
				if value == "" || countTitle(p.Variants, value) > 1 {
					value = v.SKU
				}
			}
			addValue(defaultOptionName, value)
			perVariant[i] = []map[string]any{{"optionName": defaultOptionName, "name": value}}
		}
	} else {
		for i, v := range p.Variants {
			if len(v.Options) == 0 {
				return nil, nil, &connector.Error{System: systemName, Op: "UpsertProducts", Kind: connector.KindValidation, Field: fmt.Sprintf("variants[%d].options", i), Message: "missing while other variants have options"}
			}
			for _, o := range v.Options {
				addValue(o.Name, o.Value)
				perVariant[i] = append(perVariant[i], map[string]any{"optionName": o.Name, "name": o.Value})
			}
		}
	}
	options := make([]map[string]any, len(names))
	for i, n := range names {
		vals := make([]map[string]any, len(valuesOf[n]))
		for j, v := range valuesOf[n] {
			vals[j] = map[string]any{"name": v}
		}
		options[i] = map[string]any{"name": n, "position": i + 1, "values": vals}
	}
	return options, perVariant, nil
}

func countTitle(vs []commerce.Variant, title string) int {
	n := 0
	for _, v := range vs {
		if v.Title == title {
			n++
		}
	}
	return n
}

// slug makes a handle: lower-case letters and digits separated by single
// hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	h := b.String()
	if len(h) > 200 {
		h = strings.TrimRight(h[:200], "-")
	}
	return h
}

// productSet sends one upsert. A productSet keyed by id or handle
// converges to the same product when repeated, so it is retried like an
// idempotent request.
func (c *Client) productSet(ctx context.Context, call productSetCall) (connector.UpsertResult, error) {
	vars := map[string]any{"identifier": call.identifier, "input": call.input, "variants": max(1, min(call.variants, 250))}
	var out struct {
		ProductSet struct {
			Product *struct {
				ID string `json:"id"`
			} `json:"product"`
			UserErrors []userError `json:"userErrors"`
		} `json:"productSet"`
	}
	if _, err := c.execute(ctx, docProductSet, vars, &out, true); err != nil {
		return connector.UpsertResult{}, err
	}
	if err := c.userErrorsErr("ProductSet", out.ProductSet.UserErrors); err != nil {
		return connector.UpsertResult{}, err
	}
	if out.ProductSet.Product == nil {
		return connector.UpsertResult{}, &connector.Error{System: systemName, Op: "ProductSet", Kind: connector.KindPermanent, Message: "no product in the answer"}
	}
	return connector.UpsertResult{Key: call.key, Ref: c.ref(out.ProductSet.Product.ID), Created: call.productID == ""}, nil
}

// SetPrices sets variant prices and compare-at prices by SKU with
// productVariantsBulkUpdate, one call per product (all or nothing per
// product). A nil CompareAtPrice clears it. Prices must be in the shop's
// currency (other currencies go to price lists). Every SKU is looked up
// before anything is written: an unknown SKU fails the call with
// KindNotFound and nothing written.
func (c *Client) SetPrices(ctx context.Context, prices []commerce.FixedPrice, opts ...connector.CallOption) error {
	const op = "SetPrices"
	co := connector.ApplyCallOptions(opts)
	if len(prices) == 0 {
		return nil
	}
	s, err := c.settings(ctx)
	if err != nil {
		return err
	}
	skus := make([]string, len(prices))
	seen := map[string]bool{}
	var verrs []error
	for i, p := range prices {
		if err := p.Validate(); err != nil {
			verrs = append(verrs, fmt.Errorf("prices[%d]: %w", i, err))
			continue
		}
		if p.Price.Currency != s.Currency {
			verrs = append(verrs, fmt.Errorf("prices[%d]: in %s, the shop's prices are in %s: %w", i, p.Price.Currency, s.Currency, commerce.ErrCurrencyMismatch))
		}
		if err := p.Price.ValidateExact(); err != nil {
			verrs = append(verrs, fmt.Errorf("prices[%d].price: %w", i, err))
		}
		if p.CompareAtPrice != nil {
			if err := p.CompareAtPrice.ValidateExact(); err != nil {
				verrs = append(verrs, fmt.Errorf("prices[%d].compare_at_price: %w", i, err))
			}
		}
		if seen[p.SKU] {
			verrs = append(verrs, fmt.Errorf("prices[%d]: SKU %q listed twice", i, p.SKU))
		}
		seen[p.SKU] = true
		skus[i] = p.SKU
	}
	if len(verrs) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid prices; nothing written", Err: errors.Join(verrs...)}
	}
	refs, err := c.lookupSKUs(ctx, skus)
	if err != nil {
		return err
	}
	byProduct := map[string][]map[string]any{}
	var order []string
	var missing []string
	for _, p := range prices {
		r, ok := refs[p.SKU]
		if !ok {
			missing = append(missing, p.SKU)
			continue
		}
		in := map[string]any{"id": r.VariantID, "price": p.Price.Amount.StringFixed(s.Currency.Digits()), "compareAtPrice": nil}
		if p.CompareAtPrice != nil {
			in["compareAtPrice"] = p.CompareAtPrice.Amount.StringFixed(s.Currency.Digits())
		}
		if _, ok := byProduct[r.ProductID]; !ok {
			order = append(order, r.ProductID)
		}
		byProduct[r.ProductID] = append(byProduct[r.ProductID], in)
	}
	if len(missing) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Field: "sku", Message: "no variant with SKU " + strings.Join(missing, ", ") + "; nothing written"}
	}
	if co.DryRun {
		return nil
	}
	type call struct {
		product  string
		variants []map[string]any
	}
	var calls []call
	for _, pid := range order {
		for chunk := range slices.Chunk(byProduct[pid], 250) {
			calls = append(calls, call{pid, chunk})
		}
	}
	errs := make([]error, len(calls))
	c.forEach(ctx, len(calls), func(ctx context.Context, i int) {
		var out struct {
			ProductVariantsBulkUpdate struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"productVariantsBulkUpdate"`
		}
		// Absolute prices: repeating the update changes nothing, so it is
		// retried like an idempotent request.
		_, err := c.execute(ctx, docVariantsBulkUpdate, map[string]any{"productId": calls[i].product, "variants": calls[i].variants}, &out, true)
		if err == nil {
			err = c.userErrorsErr("VariantsBulkUpdate", out.ProductVariantsBulkUpdate.UserErrors)
		}
		errs[i] = err
	})
	return errors.Join(errs...)
}
