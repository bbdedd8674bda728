package page

// File is one file of a release as the page lists it; Rows is nil for a
// file that is not a whole table.
type File struct {
	Name        string
	Rows        *int64
	Size        int64
	Description string
}
