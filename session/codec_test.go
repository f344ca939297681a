package session

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("KST", 9*3600))
	full := sampleSession("", "9007199254740993", at)
	full.LastSeen = at.Add(time.Minute)
	tests := []struct {
		name string
		s    *Session
	}{
		{"every field", full},
		{"zero", &Session{}},
		{"account", &Session{Provider: "kakao", Subject: "1", Account: "sg_AAAAAAAAAAAAAAAAAAAAAA",
			Identities: []string{"kakao:1", "google:2"}, CreatedAt: at, LastSeen: at}},
		{"no e-mail, zero expiry", &Session{Provider: "kakao", Subject: "1", Name: "최지우", CSRF: "c",
			CreatedAt: at, LastSeen: at}},
		{"long token", &Session{Provider: "google", Subject: "1", IDToken: strings.Repeat("x", 70000)}},
		{"before 1970", &Session{Provider: "naver", Subject: "1", CreatedAt: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{"year 9999", &Session{Provider: "naver", Subject: "1", TokenExpiry: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	}
	for _, tt := range tests {
		var got Session
		if err := decodeSession(encodeSession(nil, tt.s), &got); err != nil {
			t.Errorf("%s: decode: %v", tt.name, err)
			continue
		}
		if d := sessionDiff(&got, tt.s); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
	}
}

// TestCodecCoversEveryField fails when Session gains a field the codec
// does not carry: JSON carried new fields by itself, the codec must be told.
func TestCodecCoversEveryField(t *testing.T) {
	var in Session
	v := reflect.ValueOf(&in).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch name := v.Type().Field(i).Name; f.Kind() {
		case reflect.String:
			f.SetString(name + " 값")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			if f.Type() != reflect.TypeOf([]string(nil)) {
				t.Fatalf("field %s: type %v: teach the codec and this test", name, f.Type())
			}
			f.Set(reflect.ValueOf([]string{name + ":1", name + ":2"}))
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				t.Fatalf("field %s: type %v: teach the codec and this test", name, f.Type())
			}
			f.Set(reflect.ValueOf(time.Unix(1700000000+int64(i), int64(i))))
		default:
			t.Fatalf("field %s: kind %v: teach the codec and this test", name, f.Kind())
		}
	}
	var got Session
	if err := decodeSession(encodeSession(nil, &in), &got); err != nil {
		t.Fatal(err)
	}
	got.ID = in.ID // the ID is the key, not part of the value
	gv := reflect.ValueOf(got)
	for i := range v.NumField() {
		a, b := v.Field(i).Interface(), gv.Field(i).Interface()
		if ta, ok := a.(time.Time); ok {
			if !ta.Equal(b.(time.Time)) {
				t.Errorf("field %s: got %v, want %v", v.Type().Field(i).Name, b, a)
			}
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("field %s: got %v, want %v", v.Type().Field(i).Name, b, a)
		}
	}
}

// TestCodecReadsJSON: sessions stored as JSON by earlier versions still
// open.
func TestCodecReadsJSON(t *testing.T) {
	want := sampleSession("", "3456789012", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Session
	if err := decodeSession(data, &got); err != nil {
		t.Fatal(err)
	}
	if d := sessionDiff(&got, want); d != "" {
		t.Error(d)
	}
}

func TestCodecRejects(t *testing.T) {
	good := encodeSession(nil, sampleSession("", "1", time.Now()))
	tests := map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{0x03}, good[1:]...),
		"truncated":       good[:len(good)-1],
		"trailing byte":   append(append([]byte{}, good...), 0),
		"length too long": {codecVersion, 0xff, 0x01},
		"bad bool":        append(encodeSession(nil, &Session{})[:13], 2, 0, 0, 0),
		"year 10000":      encodeSession(nil, &Session{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}),
		"bad json":        []byte("{"),
	}
	for name, b := range tests {
		var s Session
		if err := decodeSession(b, &s); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

// TestCodecReadsV1: sessions written before SID, UserAgent and IP existed
// still open after an upgrade.
func TestCodecReadsV1(t *testing.T) {
	s := sampleSession("", "1", time.Unix(1767225600, 0))
	s.UserAgent, s.IP = "", ""
	v2 := encodeSession(nil, s)
	// v1 is v2 without the three strings (each one zero byte, all empty)
	// that follow CSRF.
	csrfEnd := bytes.Index(v2, []byte(s.CSRF)) + len(s.CSRF)
	v1 := append(append([]byte{codecV1}, v2[1:csrfEnd]...), v2[csrfEnd+3:]...)
	var got Session
	if err := decodeSession(v1, &got); err != nil {
		t.Fatal(err)
	}
	if d := sessionDiff(&got, s); d != "" {
		t.Error(d)
	}
}

func FuzzDecodeSession(f *testing.F) {
	f.Add(encodeSession(nil, sampleSession("", "9007199254740993", time.Now())))
	f.Add(encodeSession(nil, &Session{}))
	f.Add([]byte(`{"p":"kakao","s":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Session
		if err := decodeSession(b, &s); err != nil || len(b) == 0 || b[0] != codecVersion {
			return
		}
		// What decodes survives a round trip unchanged.
		var again Session
		if err := decodeSession(encodeSession(nil, &s), &again); err != nil {
			t.Fatalf("decode(%x) re-encodes to something that does not decode: %v", b, err)
		}
		if d := sessionDiff(&again, &s); d != "" {
			t.Errorf("decode(%x): round trip: %s", b, d)
		}
	})
}

func BenchmarkDecodeSession(b *testing.B) {
	s := sampleSession("", "9007199254740993", time.Now())
	enc, js := encodeSession(nil, s), must(json.Marshal(s))
	for _, bc := range []struct {
		name string
		data []byte
	}{{"codec", enc}, {"json", js}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var got Session
				if err := decodeSession(bc.data, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
