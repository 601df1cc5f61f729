package paypal

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/knyt/knyt/connector"
)

func TestRetryInProgress(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   connector.RetryDecision
	}{
		{409, `{"name":"RESOURCE_CONFLICT","details":[{"issue":"PREVIOUS_REQUEST_IN_PROGRESS"}]}`, connector.RetryIfSafe},
		{409, `{"name":"PREVIOUS_REQUEST_IN_PROGRESS"}`, connector.RetryIfSafe},
		{409, `{"name":"RESOURCE_CONFLICT","details":[{"issue":"DUPLICATE_INVOICE_ID"}]}`, connector.RetryDefault},
		{409, `not json`, connector.RetryDefault},
		{422, `{"name":"PREVIOUS_REQUEST_IN_PROGRESS"}`, connector.RetryDefault},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Body: io.NopCloser(strings.NewReader(tt.body))}
		if got := retryInProgress(resp, nil); got != tt.want {
			t.Errorf("%d %s: %v, want %v", tt.status, tt.body, got, tt.want)
		}
	}
	if got := retryInProgress(nil, io.ErrUnexpectedEOF); got != connector.RetryDefault {
		t.Errorf("no response: %v", got)
	}
}
