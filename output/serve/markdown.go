package serve

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// markdownHTML renders the small Markdown subset the schema documentation
// uses (docs/schema.md, generated from sql/columns.csv): ATX headings,
// paragraphs, pipe tables, "- " lists, fenced code blocks, and inline code
// spans, **bold** and [links](url). Everything is escaped first; links are
// kept only to http(s) addresses and to anchors or paths of this site, so a
// schema file cannot inject markup. Headings get ids, so a table's section
// can be linked (/schema#headlines).
func markdownHTML(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var para []string
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inlineMarkdown(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case trim == "":
			flush()
		case strings.HasPrefix(trim, "```"):
			flush()
			b.WriteString("<pre><code>")
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				b.WriteString(html.EscapeString(lines[i]) + "\n")
			}
			b.WriteString("</code></pre>\n")
		case strings.HasPrefix(trim, "#"):
			flush()
			level := len(trim) - len(strings.TrimLeft(trim, "#"))
			if level > 6 {
				level = 6
			}
			text := strings.TrimSpace(trim[level:])
			tag := string(rune('0' + level))
			b.WriteString("<h" + tag + ` id="` + anchor(text) + `">` + inlineMarkdown(text) + "</h" + tag + ">\n")
		case strings.HasPrefix(trim, "|"):
			flush()
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				rows = append(rows, tableCells(lines[i]))
			}
			i--
			writeTable(&b, rows)
		case strings.HasPrefix(trim, "- ") || strings.HasPrefix(trim, "* "):
			flush()
			b.WriteString("<ul>\n")
			for ; i < len(lines); i++ {
				t := strings.TrimSpace(lines[i])
				if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") {
					b.WriteString("<li>" + inlineMarkdown(t[2:]))
					for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") && strings.TrimSpace(lines[i+1]) != "" {
						i++
						b.WriteString(" " + inlineMarkdown(strings.TrimSpace(lines[i])))
					}
					b.WriteString("</li>\n")
					continue
				}
				break
			}
			i--
			b.WriteString("</ul>\n")
		default:
			para = append(para, trim)
		}
	}
	flush()
	return template.HTML(b.String())
}

func tableCells(line string) []string {
	t := strings.TrimSpace(line)
	t = strings.TrimPrefix(t, "|")
	t = strings.TrimSuffix(t, "|")
	cells := strings.Split(t, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

var separatorRow = regexp.MustCompile(`^:?-{3,}:?$`)

func writeTable(b *strings.Builder, rows [][]string) {
	b.WriteString("<div class=\"scroll\"><table>\n")
	body := rows
	if len(rows) >= 2 && allMatch(rows[1], separatorRow) {
		b.WriteString("<thead><tr>")
		for _, c := range rows[0] {
			b.WriteString(`<th scope="col">` + inlineMarkdown(c) + "</th>")
		}
		b.WriteString("</tr></thead>\n")
		body = rows[2:]
	}
	b.WriteString("<tbody>\n")
	for _, r := range body {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + inlineMarkdown(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table></div>\n")
}

func allMatch(cells []string, re *regexp.Regexp) bool {
	for _, c := range cells {
		if !re.MatchString(c) {
			return false
		}
	}
	return len(cells) > 0
}

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	boldSpan = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	linkSpan = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
)

// inlineMarkdown escapes s and renders code spans, bold and links. Code
// spans are cut out first so that their content is shown as written.
func inlineMarkdown(s string) string {
	var codes []string
	s = codeSpan.ReplaceAllStringFunc(s, func(m string) string {
		codes = append(codes, "<code>"+html.EscapeString(m[1:len(m)-1])+"</code>")
		return "\x00" + string(rune('A'+len(codes)-1)) + "\x00"
	})
	s = html.EscapeString(s)
	s = boldSpan.ReplaceAllString(s, "<strong>$1</strong>")
	s = linkSpan.ReplaceAllStringFunc(s, func(m string) string {
		p := linkSpan.FindStringSubmatch(m)
		url := html.UnescapeString(p[2])
		if !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "#") || strings.HasPrefix(url, "/")) {
			return p[1]
		}
		return `<a href="` + html.EscapeString(url) + `">` + p[1] + "</a>"
	})
	for i, c := range codes {
		s = strings.Replace(s, "\x00"+string(rune('A'+i))+"\x00", c, 1)
	}
	return s
}

var notAnchor = regexp.MustCompile(`[^a-z0-9_-]+`)

// anchor is a heading's id: lower case, code marks dropped, other runs of
// punctuation and spaces as one hyphen (GitHub's ids for these headings).
func anchor(text string) string {
	t := strings.ToLower(strings.ReplaceAll(text, "`", ""))
	return strings.Trim(notAnchor.ReplaceAllString(t, "-"), "-")
}
