package pipeline

// ClaimResult is the outcome of checking one published claim against the
// data.
type ClaimResult struct {
	ID        string   `json:"id"`
	Statement string   `json:"statement"`
	Source    string   `json:"source"`
	Status    string   `json:"status"`
	Expected  float64  `json:"expected"`
	Actual    *float64 `json:"actual"`
	Note      string   `json:"note"`
}
