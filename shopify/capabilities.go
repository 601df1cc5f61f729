package shopify

import "github.com/knyt/knyt/connector"

// The capabilities Client implements; the engine discovers them by type
// assertion.
var (
	_ connector.System         = (*Client)(nil)
	_ connector.ProductSource  = (*Client)(nil)
	_ connector.ProductSink    = (*Client)(nil)
	_ connector.PriceSink      = (*Client)(nil)
	_ connector.PriceListSink  = (*Client)(nil)
	_ connector.StockSink      = (*Client)(nil)
	_ connector.OrderSource    = (*Client)(nil)
	_ connector.Fulfiller      = (*Client)(nil)
	_ connector.OrderCanceller = (*Client)(nil)
	_ connector.PaidMarker     = (*Client)(nil)
	_ connector.Capturer       = (*Client)(nil)
	_ connector.Refunder       = (*Client)(nil)
	_ connector.RefundSource   = (*Client)(nil)
	_ connector.ReturnSource   = (*Client)(nil)
	_ connector.PayoutSource   = (*Client)(nil)
	_ connector.WebhookDecoder = (*WebhookDecoder)(nil)
	_ connector.Authorizer     = authorizer{}
	_ connector.Invalidator    = refreshingAuthorizer{}
	_ connector.Invalidator    = (*ClientCredentials)(nil)
)
