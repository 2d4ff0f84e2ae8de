// Package qrscan reads back the QR codes that mixdesk draws in a terminal,
// for tests: it turns the half-block text into a picture and decodes it
// with a real QR reader, as a phone camera would read the screen.
package qrscan

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// PixelsPerModule is how large one module is drawn in the picture.
const PixelsPerModule = 4

// Modules parses half-block text into a grid of light modules
// (light[y][x]): every character is one module wide and two tall, with the
// light modules drawn as the block parts ('█' both, '▀' the top one, '▄'
// the bottom one, ' ' neither). Lines must all be as wide; a trailing empty
// line is ignored.
func Modules(text string) ([][]bool, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, errors.New("qrscan: no QR code in the text")
	}
	width := len([]rune(lines[0]))
	light := make([][]bool, 0, 2*len(lines))
	for i, l := range lines {
		rs := []rune(l)
		if len(rs) != width {
			return nil, fmt.Errorf("qrscan: line %d is %d characters wide, the first %d", i+1, len(rs), width)
		}
		top, bottom := make([]bool, width), make([]bool, width)
		for x, r := range rs {
			switch r {
			case '█':
				top[x], bottom[x] = true, true
			case '▀':
				top[x] = true
			case '▄':
				bottom[x] = true
			case ' ':
			default:
				return nil, fmt.Errorf("qrscan: line %d, column %d: %q is not a half-block character", i+1, x+1, r)
			}
		}
		light = append(light, top, bottom)
	}
	return light, nil
}

// Image draws a module grid as a grey picture, light modules white and
// dark ones black, PixelsPerModule pixels a side.
func Image(light [][]bool) *image.Gray { return imageAt(light, PixelsPerModule) }

// imageAt draws a module grid px pixels a module.
func imageAt(light [][]bool, px int) *image.Gray {
	h := len(light)
	w := 0
	if h > 0 {
		w = len(light[0])
	}
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	for y, row := range light {
		for x, on := range row {
			c := color.Gray{Y: 0}
			if on {
				c = color.Gray{Y: 255}
			}
			for dy := range px {
				for dx := range px {
					img.SetGray(x*px+dx, y*px+dy, c)
				}
			}
		}
	}
	return img
}

// readScales are the module sizes, in pixels, a code is looked for at, in
// turn: as a camera sees a screen from several distances. The reader's
// finder-pattern detector misses some correct codes of version 10 and up at
// one size or another (it reads every bit of them as a pure barcode), so
// one size alone would fail codes that phones read.
var readScales = []int{PixelsPerModule, 2, 3, 6}

// Decode reads the text of a half-block QR code back to its content, with
// the reader's detector (finder patterns found in the picture, not assumed
// where they should be), at the sizes of readScales in turn.
func Decode(text string) (string, error) {
	light, err := Modules(text)
	if err != nil {
		return "", err
	}
	var first error
	for _, px := range readScales {
		bmp, err := gozxing.NewBinaryBitmapFromImage(imageAt(light, px))
		if err != nil {
			return "", fmt.Errorf("qrscan: %w", err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{
			gozxing.DecodeHintType_TRY_HARDER: true,
		})
		if err == nil {
			return res.GetText(), nil
		}
		if first == nil {
			first = err
		}
	}
	return "", fmt.Errorf("qrscan: no QR code read: %w", first)
}
