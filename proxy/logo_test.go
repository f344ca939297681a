package proxy

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
)

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const goodSVG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- the team's logo -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/></linearGradient></defs>
<rect width="10" height="10" fill="url(#g)"/><use xlink:href="#g"/><text>사내 위키</text></svg>`

func TestCheckLogo(t *testing.T) {
	tests := []struct {
		name, data, typ, err string
	}{
		{"png", string(pngOf(t, 64, 32)), "image/png", ""},
		{"svg", goodSVG, "image/svg+xml", ""},
		{"svg with doctype", `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>`, "image/svg+xml", ""},
		{"empty", "", "", "empty"},
		{"too large", string(pngOf(t, 1, 1)) + strings.Repeat("x", MaxLogoBytes), "", "at most"},
		{"huge png", string(pngOf(t, 5000, 1)), "", "pixels"},
		{"broken png", "\x89PNG\r\n\x1a\nnot really", "", "not a valid PNG"},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "", "neither a PNG nor an SVG"},
		{"html", "<html><body>hi</body></html>", "", "root element <html>"},
		{"text", "hello", "", "neither a PNG nor an SVG"},
		{"script", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "", "<script>"},
		{"handler", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "", "event handler"},
		{"foreignObject", `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>`, "", "foreignObject"},
		{"external href", `<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>`, "", "outside"},
		{"javascript href", `<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>`, "", "outside"},
		{"entities", `<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>`, "", "entit"},
		{"truncated svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect`, "", "not a valid SVG"},
	}
	for _, tt := range tests {
		typ, err := CheckLogo([]byte(tt.data))
		if tt.err == "" {
			if err != nil || typ != tt.typ {
				t.Errorf("%s: got %q, %v; want %q", tt.name, typ, err, tt.typ)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: got %q, %v; want an error with %q", tt.name, typ, err, tt.err)
		}
	}
}

// FuzzCheckLogo: any bytes give a PNG, an SVG or an error, and an
// accepted SVG never holds a script element or an event handler.
func FuzzCheckLogo(f *testing.F) {
	f.Add([]byte(goodSVG))
	f.Add(pngOf(f, 2, 2))
	f.Add([]byte(`<svg><script/></svg>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, err := CheckLogo(data)
		if err != nil {
			if typ != "" {
				t.Fatalf("type %q with error %v", typ, err)
			}
			return
		}
		switch typ {
		case "image/png":
			if !bytes.HasPrefix(data, pngMagic) {
				t.Fatal("PNG without the PNG signature")
			}
		case "image/svg+xml":
			low := bytes.ToLower(data)
			if bytes.Contains(low, []byte("<script")) && !bytes.Contains(low, []byte("<![cdata[")) && !bytes.Contains(low, []byte("<!--")) {
				t.Fatalf("accepted an SVG with a script element: %q", data)
			}
		default:
			t.Fatalf("type %q", typ)
		}
	})
}
