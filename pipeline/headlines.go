package pipeline

import (
	"context"
	"database/sql"
	"fmt"
)

// Headline is one line of the summary printed after a run: applications
// lodged at Schengen consulates located in one country, per year.
type Headline struct {
	HostCountry   string   `json:"host_country"`
	Name          string   `json:"host_country_name"`
	Year          int      `json:"year"`
	Applications  int64    `json:"applications"`
	Change        *float64 `json:"applications_yoy_change"`
	NotIssuedRate *float64 `json:"not_issued_rate"`
}

// HeadlineCountry is the host country of the run summary.
const HeadlineCountry = "RU"

func headlines(ctx context.Context, conn *sql.Conn) ([]Headline, error) {
	rows, err := conn.QueryContext(ctx, `SELECT host_country, host_country_name, year, applications,
		applications_yoy_change, not_issued_rate
		FROM schengen_host_country_year WHERE host_country = ? ORDER BY year`, HeadlineCountry)
	if err != nil {
		return nil, fmt.Errorf("headlines: %w", err)
	}
	defer rows.Close()
	var out []Headline
	for rows.Next() {
		var h Headline
		if err := rows.Scan(&h.HostCountry, &h.Name, &h.Year, &h.Applications, &h.Change, &h.NotIssuedRate); err != nil {
			return nil, fmt.Errorf("headlines: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
