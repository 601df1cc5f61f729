package flow

import (
	"log/slog"

	"github.com/knyt/knyt/commerce"
)

const (
	levelInfo  = slog.LevelInfo
	levelWarn  = slog.LevelWarn
	levelError = slog.LevelError
)

func attrShop(s *shopRT) slog.Attr      { return slog.String("shop", s.cfg.ID) }
func attrRef(r commerce.Ref) slog.Attr  { return slog.String("ref", r.String()) }
func attrErr(err error) slog.Attr       { return slog.String("error", err.Error()) }
func attrOrder(number string) slog.Attr { return slog.String("order", number) }
func attrKey(k, v string) slog.Attr     { return slog.String(k, v) }
