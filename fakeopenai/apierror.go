package fakeopenai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error types and codes as the OpenAI API spells them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeServerError    = "server_error"
	TypeRequests       = "requests" // the type of a requests-per-minute 429

	CodeInvalidAPIKey    = "invalid_api_key"
	CodeModelNotFound    = "model_not_found"
	CodeMissingParameter = "missing_required_parameter"
	CodeRateLimit        = "rate_limit_exceeded"
	CodeRequestTooLarge  = "request_too_large"
)

// apiError is an error answer: the status and the body OpenAI would send.
// Param and Code are null in JSON when empty, as in the real API.
type apiError struct {
	Status     int
	Message    string
	Type       string
	Param      string
	Code       string
	RetryAfter int // seconds; 0 = no Retry-After header
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *apiError) body() []byte {
	b, err := json.Marshal(errorBody{Error: errorFields{
		Message: e.Message,
		Type:    e.Type,
		Param:   nullable(e.Param),
		Code:    nullable(e.Code),
	}})
	if err != nil {
		// Marshalling strings cannot fail; keep a valid body regardless.
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return append(b, '\n')
}

func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.body())
}

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

func errInvalidKey(key string) *apiError {
	msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
	if key != "" {
		msg = fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", maskKey(key))
	}
	return &apiError{Status: http.StatusUnauthorized, Type: TypeInvalidRequest, Code: CodeInvalidAPIKey, Message: msg}
}

// maskKey shows the ends of a key only, as OpenAI does, so logs and error
// bodies never carry a whole secret.
func maskKey(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:4] + "*****" + key[len(key)-4:]
}

func errModelNotFound(model string) *apiError {
	return &apiError{
		Status:  http.StatusNotFound,
		Type:    TypeInvalidRequest,
		Param:   "model",
		Code:    CodeModelNotFound,
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model),
	}
}

func errMissingModel() *apiError {
	return &apiError{
		Status:  http.StatusBadRequest,
		Type:    TypeInvalidRequest,
		Param:   "model",
		Code:    CodeMissingParameter,
		Message: "you must provide a model parameter",
	}
}

func errWrongEndpoint(model, endpoint string) *apiError {
	return &apiError{
		Status:  http.StatusNotFound,
		Type:    TypeInvalidRequest,
		Param:   "model",
		Message: fmt.Sprintf("The model `%s` is not supported by the %s endpoint.", model, endpoint),
	}
}

func errTooLarge(limit int64) *apiError {
	return &apiError{
		Status:  http.StatusRequestEntityTooLarge,
		Type:    TypeInvalidRequest,
		Code:    CodeRequestTooLarge,
		Message: fmt.Sprintf("Request body too large: the limit is %d bytes.", limit),
	}
}

func errInvalidURL(r *http.Request) *apiError {
	return &apiError{
		Status:  http.StatusNotFound,
		Type:    TypeInvalidRequest,
		Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path),
	}
}

func errRateLimited(retryAfter int, why string) *apiError {
	return &apiError{
		Status:     http.StatusTooManyRequests,
		Type:       TypeRequests,
		Code:       CodeRateLimit,
		RetryAfter: retryAfter,
		Message:    "Rate limit reached for requests: " + why + ". Please try again later.",
	}
}

func errServer() *apiError {
	return &apiError{
		Status:  http.StatusInternalServerError,
		Type:    TypeServerError,
		Message: "The server had an error while processing your request. Sorry about that!",
	}
}

func errOverloaded() *apiError {
	return &apiError{
		Status:  http.StatusServiceUnavailable,
		Type:    TypeServerError,
		Message: "The server is overloaded or not ready yet.",
	}
}

// anthropicErrorType is Anthropic's error type for an HTTP status.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	}
	return "api_error"
}

// writeAnthropic writes e in Anthropic's shape:
// {"type":"error","error":{"type":…,"message":…},"request_id":…}.
func (e *apiError) writeAnthropic(w http.ResponseWriter, requestID string) {
	body, err := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": anthropicErrorType(e.Status), "message": e.Message},
		"request_id": requestID,
	})
	if err != nil {
		body = []byte(`{"type":"error","error":{"type":"api_error","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(append(body, '\n'))
}
