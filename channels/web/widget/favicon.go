package widget

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
)

// favicon draws the site's icon, the widget's red chat bubble, as a 32×32 ICO file holding one PNG image
// (which every current browser reads), so that /favicon.ico needs no binary file in the repository.
func favicon() []byte {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	red := color.NRGBA{0xb7, 0x1c, 0x1c, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := range n {
		for x := range n {
			dx, dy := float64(x)-15.5, float64(y)-15.5
			switch {
			case dx*dx+dy*dy > 15.5*15.5:
				// transparent corner
			case y >= 10 && y <= 19 && x >= 8 && x <= 23, y >= 20 && y <= 23 && x >= 10 && x <= 10+(23-y):
				img.SetNRGBA(x, y, white) // the speech bubble and its tail
			default:
				img.SetNRGBA(x, y, red)
			}
		}
	}
	var pic bytes.Buffer
	_ = png.Encode(&pic, img) // writes to memory do not fail
	var ico bytes.Buffer
	// ICONDIR (reserved, type 1 = icon, one image), then one ICONDIRENTRY pointing at the PNG after them.
	hdr := []any{uint16(0), uint16(1), uint16(1),
		uint8(n), uint8(n), uint8(0), uint8(0), uint16(1), uint16(32), uint32(pic.Len()), uint32(6 + 16)}
	for _, v := range hdr {
		_ = binary.Write(&ico, binary.LittleEndian, v)
	}
	ico.Write(pic.Bytes())
	return ico.Bytes()
}
