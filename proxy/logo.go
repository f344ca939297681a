package proxy

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
)

// MaxLogoBytes bounds UIOptions.Logo: a logo is a few KiB; anything near
// this is a mistake (a photo), and it is held in memory and sent on every
// page view.
const MaxLogoBytes = 256 << 10

// maxLogoPixels bounds a PNG logo's width and height.
const maxLogoPixels = 4096

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// CheckLogo returns the content type of a logo ("image/png" or
// "image/svg+xml"), or why it cannot be one: too large, neither a PNG nor
// an SVG document, or an SVG that carries scripts, event handlers or
// external references. The page shows it with <img>, where nothing in it
// runs, but the gateway also serves it at its own URL.
func CheckLogo(data []byte) (string, error) {
	if len(data) == 0 {
		return "", errors.New("empty file")
	}
	if len(data) > MaxLogoBytes {
		return "", fmt.Errorf("%d bytes; at most %d KiB", len(data), MaxLogoBytes>>10)
	}
	if bytes.HasPrefix(data, pngMagic) {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("not a valid PNG: %v", err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxLogoPixels || cfg.Height > maxLogoPixels {
			return "", fmt.Errorf("PNG of %dx%d pixels; at most %d on each side", cfg.Width, cfg.Height, maxLogoPixels)
		}
		return "image/png", nil
	}
	if err := checkSVG(data); err != nil {
		return "", err
	}
	return "image/svg+xml", nil
}

// checkSVG accepts an XML document whose root element is <svg> and which
// holds no script, foreignObject, event handler attribute or reference
// outside the document.
func checkSVG(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// No entity expansion beyond XML's own five: no billion laughs.
	dec.Entity = nil
	root := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !root {
				return errors.New("neither a PNG nor an SVG image")
			}
			return fmt.Errorf("not a valid SVG: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !root {
				if t.Name.Local != "svg" {
					return fmt.Errorf("neither a PNG nor an SVG image (root element <%s>)", t.Name.Local)
				}
				root = true
			}
			switch strings.ToLower(t.Name.Local) {
			case "script", "foreignobject", "iframe", "embed", "object":
				return fmt.Errorf("SVG with a <%s> element", t.Name.Local)
			}
			for _, a := range t.Attr {
				name, val := strings.ToLower(a.Name.Local), strings.ToLower(strings.TrimSpace(a.Value))
				if strings.HasPrefix(name, "on") {
					return fmt.Errorf("SVG with an event handler (%s)", a.Name.Local)
				}
				if name == "href" && !strings.HasPrefix(val, "#") && !strings.HasPrefix(val, "data:image/") {
					return errors.New("SVG with a reference outside the image (href)")
				}
			}
		case xml.Directive:
			// <!DOCTYPE svg ...> is fine; <!ENTITY ...> definitions are not.
			if bytes.Contains(bytes.ToUpper(t), []byte("ENTITY")) {
				return errors.New("SVG with entity definitions")
			}
		}
	}
	if !root {
		return errors.New("neither a PNG nor an SVG image")
	}
	return nil
}
