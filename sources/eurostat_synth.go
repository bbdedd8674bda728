package sources

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Code lists of the synthetic file, shaped like migr_asyappctzm: ~200
// citizenships (Eurostat codes, with EL and UK, aggregates and specials),
// 35 reporting countries and aggregates, 4 sexes, 8 age classes and 3
// applicant types, all in Eurostat's sort order.
const (
	synthCitizens = "AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CK CL CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET EU27_2020 EXT_EU27_2020 FI FJ FM FR GA GD GE GH GM GN GQ GT GW GY HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MH MK ML MM MN MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL PS PT PW PY QA RNC RO RS RU RW SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST STLS SV SY SZ TD TG TH TJ TL TM TN TO TOTAL TR TT TV TW TZ UA UG UK UNK US UY UZ VA VC VE VN VU WS XK YE ZA ZM ZW"
	synthGeos     = "AT BE BG CH CY CZ DE DK EE EL ES EU27_2020 FI FR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK TOTAL UK XK"
	synthSexes    = "F M T UNK"
	synthAges     = "TOTAL UNK Y14-17 Y18-34 Y35-64 Y_GE65 Y_LT14 Y_LT18"
	synthApps     = "FRST SSEQ TOTAL"
)

// WriteSyntheticEurostatTSV writes a synthetic monthly asylum applications
// file in exactly the API TSV format of migr_asyappctzm: header
// "freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD", monthly periods
// from 2008-01 ascending with a trailing space, cells such as "35 ",
// "0 ", ": ", "5 p", "10 ep" and ": c". The same series, periods and seed
// give the same bytes. Series are drawn evenly from all combinations of the
// code lists (672,000), so series may be at most that; periods end next
// December at the latest. It is for benchmarks and tests: the figures are
// random, never data.
func WriteSyntheticEurostatTSV(w io.Writer, series, periods int, seed int64) error {
	cits := strings.Fields(synthCitizens)
	geos := strings.Fields(synthGeos)
	sexes := strings.Fields(synthSexes)
	ages := strings.Fields(synthAges)
	apps := strings.Fields(synthApps)
	total := len(cits) * len(sexes) * len(ages) * len(apps) * len(geos)
	if series < 1 || series > total {
		return fmt.Errorf("synthetic eurostat tsv: series must be between 1 and %d, got %d", total, series)
	}
	// Periods run from 2008-01 to at most next December: later years
	// are refused by the loader as implausible.
	if maxPeriods := 12 * (time.Now().Year() + 2 - 2008); periods < 1 || periods > maxPeriods {
		return fmt.Errorf("synthetic eurostat tsv: periods must be between 1 and %d (2008-01 to next December), got %d", maxPeriods, periods)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 0, 64+periods*12)

	buf = append(buf, `freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD`...)
	for j := 0; j < periods; j++ {
		y, m := 2008+j/12, j%12+1
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, int64(y), 10)
		buf = append(buf, '-', byte('0'+m/10), byte('0'+m%10), ' ')
	}
	buf = append(buf, '\n')
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("write synthetic eurostat tsv: %w", err)
	}
	// Selection sampling (Knuth's Algorithm S) picks exactly series of
	// the combinations, in sort order and spread evenly over all of them.
	pick := rand.New(rand.NewPCG(uint64(seed), 0x6a09e667f3bcc909))
	need := series
	for combo := 0; combo < total && need > 0; combo++ {
		if pick.IntN(total-combo) >= need {
			continue
		}
		need--
		c := combo
		gi := c % len(geos)
		c /= len(geos)
		ai := c % len(apps)
		c /= len(apps)
		agi := c % len(ages)
		c /= len(ages)
		si := c % len(sexes)
		ci := c / len(sexes)
		buf = buf[:0]
		buf = append(buf, "M,PER,"...)
		buf = append(buf, cits[ci]...)
		buf = append(buf, ',')
		buf = append(buf, sexes[si]...)
		buf = append(buf, ',')
		buf = append(buf, ages[agi]...)
		buf = append(buf, ',')
		buf = append(buf, apps[ai]...)
		buf = append(buf, ',')
		buf = append(buf, geos[gi]...)
		// A series has a typical size; months vary around it.
		scale := math.Exp(rng.NormFloat64()*1.8 + 2)
		for j := 0; j < periods; j++ {
			buf = append(buf, '\t')
			r := rng.IntN(1000)
			switch {
			case r < 145:
				buf = append(buf, ": "...)
			case r < 150:
				buf = append(buf, ": c"...)
			default:
				v := int64(scale*rng.ExpFloat64()/5+0.5) * 5
				if rng.IntN(3) == 0 {
					v = 0
				}
				buf = strconv.AppendInt(buf, v, 10)
				buf = append(buf, ' ')
				switch f := rng.IntN(1000); {
				case f < 50:
					buf = append(buf, 'p')
				case f < 60:
					buf = append(buf, 'e')
				case f < 65:
					buf = append(buf, 'e', 'p')
				}
			}
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write synthetic eurostat tsv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write synthetic eurostat tsv: %w", err)
	}
	return nil
}
