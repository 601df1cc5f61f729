// Package plugin is an example of a partner plugin for the knyt sync
// engine: a field mapping and a filter for products on their way from a
// Shopify shop to Specter, registered as flow hooks.
//
// Many shops keep data the shop's product model has no field for in
// product tags. This plugin reads two conventions:
//
//   - a weight tag, "vikt:350g" or "vikt:1,2kg": the shipping weight of
//     every variant that has none, which the specter connector sends as the
//     article's weight (Specter's productWeight, in kilograms). A tag that
//     does not parse rejects the product: it becomes a dead letter naming
//     the plugin, to be fixed in the shop and replayed;
//   - a skip tag, "endast-webb" ("web only"): products sold only in the web
//     shop (made to order, digital) are not articles in the ERP. The engine
//     records them as skipped, with the reason.
//
// Register it with the engine:
//
//	eng, err := flow.New(cfg, systems, append(plugin.Options(plugin.Config{}), flow.WithStore(st))...)
//
// or pick the hooks one by one with flow.WithHook. Hooks run in the order
// they are registered; the filter is registered first, so a skipped
// product's tags are never parsed.
package plugin
