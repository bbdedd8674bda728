package plot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
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

// encodePNG writes an opaque image as an 8-bit RGB PNG. It exists for
// speed: image/png tries five filters on every row and compresses with
// compress/zlib, which made encoding take three times as long as drawing.
// Here every row gets the "up" filter (a chart's rows mostly repeat the
// row above, which it turns into zeros) and klauspost's faster deflate
// compresses the result. image/png reads it back in the tests.
func encodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()

	var idat bytes.Buffer
	idat.Grow(width * height / 4)
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	if err != nil {
		return err
	}
	zero := make([]byte, 4*width)
	out := make([]byte, 1+3*width)
	same := make([]byte, 1+3*width) // a row equal to the one above
	out[0], same[0] = 2, 2          // filter type "up"
	for y := 0; y < height; y++ {
		cur := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:4*width]
		prev := zero
		if y > 0 {
			prev = img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y-1):][:4*width]
		}
		row := out
		if bytes.Equal(cur, prev) {
			row = same
		} else {
			upFilter(out[1:], cur, prev)
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}

	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(height))
	ihdr[8] = 8 // bits per sample
	ihdr[9] = 2 // colour type: RGB; compression, filter, interlace 0

	bw := &chunkWriter{w: w}
	bw.write([]byte("\x89PNG\r\n\x1a\n"))
	bw.chunk("IHDR", ihdr[:])
	bw.chunk("IDAT", idat.Bytes())
	bw.chunk("IEND", nil)
	return bw.err
}

// upFilter writes the RGB bytes of the RGBA row cur minus those of the
// row above, prev (PNG's "up" filter). Runs of pixels equal to those above,
// most of a chart, are found by comparing blocks of bytes and give zeros.
func upFilter(out, cur, prev []byte) {
	const block = 32 // pixels
	n := len(out) / 3
	cur, prev = cur[:4*n], prev[:4*n]
	for x0 := 0; x0 < n; x0 += block {
		x1 := min(x0+block, n)
		if bytes.Equal(cur[4*x0:4*x1], prev[4*x0:4*x1]) {
			clear(out[3*x0 : 3*x1])
			continue
		}
		for x := x0; x < x1; x++ {
			i, j := 4*x, 3*x
			out[j] = cur[i] - prev[i]
			out[j+1] = cur[i+1] - prev[i+1]
			out[j+2] = cur[i+2] - prev[i+2]
		}
	}
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
