package connectortest_test

import (
	"fmt"
	"strings"

	"github.com/knyt/knyt/connector/connectortest"
)

// A LogBuffer receives a connector's logs so the suite can check that no
// secret was written.
func ExampleLogBuffer() {
	buf := connectortest.NewLogBuffer()
	buf.Logger().Info("http attempt", "system", "acme", "url", "https://api.example.com/orders?token=REDACTED")
	fmt.Println(strings.Contains(buf.String(), `"system":"acme"`))
	// Output: true
}
