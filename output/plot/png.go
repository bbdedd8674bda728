package plot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"slices"
	"sync"

	"git.sr.ht/~sbinet/gg"
	"github.com/klauspost/compress/zlib"
	xdraw "golang.org/x/image/draw"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePNG writes c as a PNG image 640 pixels wide (100 dpi), a column's
// width, for slides and systems that take no SVG; the SVG is the one that
// stays sharp on high-density screens.
func WritePNG(w io.Writer, c Chart) error {
	cv, _, err := paint(c, newImageCanvas, true)
	if err != nil {
		return fmt.Errorf("write PNG: %w", err)
	}
	defer putPixels(cv.Image())
	img, ok := cv.Image().(*image.RGBA)
	if !ok {
		return fmt.Errorf("write PNG of chart %s: canvas image is %T, not *image.RGBA", c.ID, cv.Image())
	}
	if err := encodePNG(w, img); err != nil {
		return fmt.Errorf("write PNG of chart %s: %w", c.ID, err)
	}
	return nil
}

// newImageCanvas is vgimg's canvas, white, with two costs of its default
// set-up removed: the copy of the freshly made image, and glyphs drawn
// through a bilinear transform although they only move by whole pixels
// (nearest-neighbour does that as a plain copy, to the same pixels).
func newImageCanvas(w, h vg.Length) *vgimg.Canvas {
	r := image.Rect(0, 0, int(w.Dots(pngDPI)+0.5), int(h.Dots(pngDPI)+0.5))
	img := &image.RGBA{Pix: getPixels(4 * r.Dx() * r.Dy()), Stride: 4 * r.Dx(), Rect: r}
	ctx := gg.NewContextForRGBA(img)
	// As vgimg.NewWith sets up the context it makes itself.
	ctx.SetLineCapButt()
	ctx.InvertY()
	ctx.SetInterpolator(xdraw.NearestNeighbor)
	// NewWith paints the image white.
	return vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(pngDPI))
}

// pixels holds the pixel buffers of images already encoded, for the next
// chart: a fresh 6 MB buffer per chart cost a fifth of WritePNG's time in
// page faults and garbage collection. A buffer's old contents do not
// matter: vgimg paints a new canvas white.
var pixels sync.Pool

func getPixels(n int) []byte {
	if p, ok := pixels.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putPixels(img image.Image) {
	if rgba, ok := img.(*image.RGBA); ok {
		pixels.Put(&rgba.Pix)
	}
}

// pngColours is how many colours a chart's PNG keeps. A chart is a few
// flat colours plus the antialiased edges of its lines and letters: the
// 128 most frequent colours cover some 98% of its pixels, and mapping the
// rest to the nearest of them is not visible at this size, while an
// indexed image is a third of the size of the RGB one (66 kB against
// 214 kB for a profile chart).
const pngColours = 128

// encodePNG writes an opaque image as an indexed (palette) PNG of its
// pngColours most frequent colours, every pixel mapped to the nearest. It
// is written here rather than with image/png for speed: image/png tries
// five filters on every row and draw.Draw searches the palette for every
// pixel. Here colours are looked up once per run of equal pixels (most of
// a chart), every row gets the "up" filter (a chart's rows mostly repeat
// the row above, which it turns into zeros) and klauspost's deflate
// compresses the result. image/png reads it back in the tests.
func encodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	rgb := func(row []byte, x int) uint32 {
		return uint32(row[4*x])<<16 | uint32(row[4*x+1])<<8 | uint32(row[4*x+2])
	}
	rowAt := func(y int) []byte { return img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:4*width] }

	// The colours by frequency, counted over runs of equal pixels.
	hist := map[uint32]int{}
	for y := 0; y < height; y++ {
		row := rowAt(y)
		last, run := rgb(row, 0), 0
		for x := 0; x < width; x++ {
			if c := rgb(row, x); c != last {
				hist[last] += run
				last, run = c, 0
			}
			run++
		}
		hist[last] += run
	}
	type freq struct {
		c uint32
		n int
	}
	all := make([]freq, 0, len(hist))
	for c, n := range hist {
		all = append(all, freq{c, n})
	}
	// Ties by colour: the same chart gives the same bytes.
	slices.SortFunc(all, func(a, b freq) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return int(a.c) - int(b.c)
	})
	pal := all[:min(len(all), pngColours)]
	index := make(map[uint32]uint8, 2*len(pal))
	for i, f := range pal {
		index[f.c] = uint8(i)
	}
	nearest := func(c uint32) uint8 {
		best, bestD := 0, int(^uint(0)>>1)
		for i, f := range pal {
			dr := int(c>>16&0xff) - int(f.c>>16&0xff)
			dg := int(c>>8&0xff) - int(f.c>>8&0xff)
			db := int(c&0xff) - int(f.c&0xff)
			if d := dr*dr + dg*dg + db*db; d < bestD {
				best, bestD = i, d
			}
		}
		return uint8(best)
	}

	var idat bytes.Buffer
	idat.Grow(width * height / 16)
	zw, err := zlib.NewWriterLevel(&idat, zlib.DefaultCompression)
	if err != nil {
		return err
	}
	cur := make([]byte, width)
	prev := make([]byte, width) // the row above, indices; zeros above the first
	out := make([]byte, 1+width)
	out[0] = 2 // filter type "up"
	for y := 0; y < height; y++ {
		row := rowAt(y)
		lastC, lastI := rgb(row, 0)^1, uint8(0) // no colour yet
		for x := 0; x < width; x++ {
			c := rgb(row, x)
			if c != lastC {
				i, ok := index[c]
				if !ok {
					i = nearest(c)
					index[c] = i
				}
				lastC, lastI = c, i
			}
			cur[x] = lastI
		}
		for x := range cur {
			out[1+x] = cur[x] - prev[x]
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
		cur, prev = prev, cur
	}
	if err := zw.Close(); err != nil {
		return err
	}

	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(height))
	ihdr[8] = 8 // bits per index
	ihdr[9] = 3 // colour type: indexed; compression, filter, interlace 0
	plte := make([]byte, 0, 3*len(pal))
	for _, f := range pal {
		plte = append(plte, byte(f.c>>16), byte(f.c>>8), byte(f.c))
	}

	bw := &chunkWriter{w: w}
	bw.write([]byte("\x89PNG\r\n\x1a\n"))
	bw.chunk("IHDR", ihdr[:])
	bw.chunk("PLTE", plte)
	bw.chunk("IDAT", idat.Bytes())
	bw.chunk("IEND", nil)
	return bw.err
}

// chunkWriter writes PNG chunks and keeps the first error.
type chunkWriter struct {
	w   io.Writer
	err error
}

func (c *chunkWriter) write(p []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
	}
}

func (c *chunkWriter) chunk(kind string, data []byte) {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], kind)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	c.write(head[:])
	c.write(data)
	c.write(sum[:])
}
