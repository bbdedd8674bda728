package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// unhcrCalendarTable holds UNHCR's release calendar as read.
const unhcrCalendarTable = "raw_unhcr_release_calendar"

const unhcrCalendarDDL = `
DROP TABLE IF EXISTS raw_unhcr_release_calendar;
CREATE TABLE raw_unhcr_release_calendar (
  file VARCHAR, line BIGINT,
  release VARCHAR, kind VARCHAR, data_year INTEGER, data_through DATE, published DATE,
  source VARCHAR, refugees_version VARCHAR
);
`

// Kinds of UNHCR release in the release calendar.
const (
	// UNHCRMidYear is a Mid-Year Trends release: its latest year covers
	// January to June.
	UNHCRMidYear = "mid-year"
	// UNHCREndYear is a Global Trends release: its latest year is whole.
	UNHCREndYear = "end-year"
)

// UNHCRRelease is one dated release of UNHCR's population statistics, a
// line of the release calendar (data/reference/unhcr_release_calendar.csv).
// The API serves the figures of the latest release and does not say which
// it is; the calendar says, by the day a page was retrieved.
type UNHCRRelease struct {
	// Release names it, e.g. "Global Trends 2025 (end-2025)".
	Release string
	// Kind is UNHCRMidYear or UNHCREndYear.
	Kind string
	// DataYear is the latest year it covers; DataThrough the last day of
	// that year it covers (30 June for a mid-year release, 31 December for
	// an end-year one).
	DataYear    int
	DataThrough time.Time
	// Published is the day it was first published.
	Published time.Time
	// Source says where the date is known from.
	Source string
	// RefugeesVersion is the version of UNHCR's R package refugees that
	// carries it, "" when none is known.
	RefugeesVersion string
	// Line is its line in the calendar file.
	Line int
}

// unhcrCalendarHeader are the calendar's columns; refugees_version may
// follow them.
var unhcrCalendarHeader = []string{"release", "kind", "data_year", "data_through", "published", "source"}

// ReadUNHCRCalendar reads UNHCR's release calendar at path: the columns
// release, kind (mid-year or end-year), data_year, data_through
// (yyyy-mm-dd: 30 June of data_year for a mid-year release, 31 December
// for an end-year one), published (yyyy-mm-dd, after data_through) and
// source, then optionally refugees_version. A bad value is a
// *LocatedError naming the file, line and column.
func ReadUNHCRCalendar(path string) ([]UNHCRRelease, error) {
	var out []UNHCRRelease
	seen := map[string]int{}
	err := readRefTable(path, unhcrCalendarHeader, []string{"refugees_version"}, func(line int, rec []string) error {
		at := func(col, val string, err error) error {
			return &LocatedError{File: path, Line: int64(line), Column: col, Value: val, Err: err}
		}
		r := UNHCRRelease{Release: rec[0], Kind: rec[1], Source: rec[5], Line: line}
		if len(rec) > 6 {
			r.RefugeesVersion = rec[6]
		}
		if prev, dup := seen[r.Release]; dup {
			return at("release", r.Release, fmt.Errorf("already on line %d; name each release once", prev))
		}
		seen[r.Release] = line
		if r.Kind != UNHCRMidYear && r.Kind != UNHCREndYear {
			return at("kind", r.Kind, fmt.Errorf("want %s or %s", UNHCRMidYear, UNHCREndYear))
		}
		y, err := parseYear(rec[2])
		if err != nil {
			return at("data_year", rec[2], err)
		}
		r.DataYear = y
		if r.DataThrough, err = time.Parse(time.DateOnly, rec[3]); err != nil {
			return at("data_through", rec[3], errors.New("want a date yyyy-mm-dd"))
		}
		want := time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC)
		if r.Kind == UNHCRMidYear {
			want = time.Date(y, time.June, 30, 0, 0, 0, 0, time.UTC)
		}
		if !r.DataThrough.Equal(want) {
			return at("data_through", rec[3], fmt.Errorf("a %s release of %d runs to %s", r.Kind, y, want.Format(time.DateOnly)))
		}
		if r.Published, err = time.Parse(time.DateOnly, rec[4]); err != nil {
			return at("published", rec[4], errors.New("want a date yyyy-mm-dd"))
		}
		if !r.Published.After(r.DataThrough) {
			return at("published", rec[4], fmt.Errorf("a release is published after the period it covers (to %s)", rec[3]))
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unhcr: release calendar: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("unhcr: release calendar %s lists no release", path)
	}
	return out, nil
}

// loadUNHCRCalendar writes the releases of the calendar at path to
// raw_unhcr_release_calendar.
func loadUNHCRCalendar(ctx context.Context, conn *sql.Conn, path string, rels []UNHCRRelease, st *Stats) error {
	n, err := appendRows(ctx, conn, unhcrCalendarTable, func(add func(vals ...driver.Value) error) error {
		for _, r := range rels {
			var version driver.Value
			if r.RefugeesVersion != "" {
				version = r.RefugeesVersion
			}
			if err := add(path, int64(r.Line), r.Release, r.Kind, int32(r.DataYear), r.DataThrough, r.Published, r.Source, version); err != nil {
				return fmt.Errorf("unhcr: %s line %d: %w", path, r.Line, err)
			}
		}
		return nil
	})
	st.add(unhcrCalendarTable, n)
	return err
}

// checkUNHCRRetrieval fails when a page was retrieved on or before the
// first day the calendar knows a release for: the calendar cannot say how
// far its figures run, and a run must not guess that its latest year is
// whole.
func checkUNHCRRetrieval(calendar string, rels []UNHCRRelease, pages []UNHCRAPIPage) error {
	first := rels[0]
	for _, r := range rels[1:] {
		if r.Published.Before(first.Published) {
			first = r
		}
	}
	for _, p := range pages {
		if p.RetrievedAt.IsZero() {
			return fmt.Errorf("unhcr: %s has no retrieval time; the release calendar labels a page by when it was retrieved", p.URL)
		}
		day := unhcrDay(p.RetrievedAt)
		if !day.After(first.Published) {
			return fmt.Errorf("unhcr: %s was retrieved on %s, before %s lists any release (its first, %q, was published %s); the calendar cannot say how far the page's figures run",
				p.URL, day.Format(time.DateOnly), calendar, first.Release, first.Published.Format(time.DateOnly))
		}
	}
	return nil
}

// unhcrDay is the day (UTC) of t. The calendar's dates are days: a
// release counts for a page retrieved on a later day only, since a page
// retrieved on the day of a release may predate it (see
// sql/016_unhcr_input_releases.sql).
func unhcrDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
