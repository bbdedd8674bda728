package output

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// hiveEscape percent-encodes every byte of s but ASCII letters, digits,
// '-', '_' and '.', and a leading '.', so that a value can neither leave
// its folder nor hide it.
func hiveEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// replaceDir renames the complete folder tmp to dir. An earlier dir is
// moved aside first and removed once tmp is in place, or put back if the
// rename fails.
func replaceDir(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("%w; the earlier folder is left at %s: %v", err, old, rerr)
		}
		return err
	}
	return os.RemoveAll(old)
}

// PartitionFolder is the hive folder of one partition: "dataset=x/year=2023"
// for names {dataset, year} and values {x, 2023}. As hive readers expect,
// the partition columns are not stored in the files: readers take them
// from the folder names (DuckDB: read_parquet('dir/**/*.parquet',
// hive_partitioning=true)). Values are escaped as %XX except ASCII
// letters, digits, '-', '_' and '.', which DuckDB, pyarrow and polars
// decode. An empty value is an error, because hive readers disagree on
// how to spell it.
func PartitionFolder(names, values []string) (string, error) {
	if len(names) == 0 || len(names) != len(values) {
		return "", fmt.Errorf("partition folder of %d columns and %d values", len(names), len(values))
	}
	segs := make([]string, len(names))
	for k, name := range names {
		if values[k] == "" {
			return "", fmt.Errorf("partition column %q is empty, which hive readers read differently; partition by a column without empty values", name)
		}
		segs[k] = hiveEscape(name) + "=" + hiveEscape(values[k])
	}
	return strings.Join(segs, "/"), nil
}

// PartitionFile is the name of the first file of a partition folder.
const PartitionFile = "part-0.parquet"

// PublishDir moves the complete folder tmp (written beside dir) to dir,
// replacing an earlier dir, so that files of partitions that are gone do
// not linger.
func PublishDir(tmp, dir string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	return nil
}
