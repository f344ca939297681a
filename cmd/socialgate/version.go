package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Stamped by the linker in `make build` and deploy/Dockerfile:
//
//	-ldflags "-X main.stampVersion=$(git describe --tags --always --dirty)
//	          -X main.stampRevision=$(git log -1 --format=%H)
//	          -X main.stampTime=$(git log -1 --format=%cI)"
//
// They are package variables only because -X can set nothing else; nothing
// assigns them at run time. The build info Go records itself covers
// `go install …@latest` (the module version) and builds with -buildvcs
// (revision and time); these machines set GOFLAGS=-buildvcs=false, and Go
// records no VCS information in a git worktree, so the Makefile stamps.
var (
	stampVersion  string
	stampRevision string
	stampTime     string
)

// buildInfo is what `socialgate version` prints and serve logs.
type buildInfo struct {
	version  string // v1.2.3, a git describe, or (devel)
	revision string // the commit hash, or "unknown"
	time     string // the commit time, RFC 3339, or "unknown"
	modified bool   // built from a tree with uncommitted changes
	goVer    string
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: "(devel)", revision: "unknown", time: "unknown", goVer: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.revision = s.Value
			case "vcs.time":
				b.time = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	// An explicit stamp wins: it is what the builder meant.
	if stampVersion != "" {
		b.version = stampVersion
	}
	if stampRevision != "" {
		b.revision = stampRevision
	}
	if stampTime != "" {
		b.time = stampTime
	}
	return b
}

func (b buildInfo) print(w io.Writer) {
	rev := b.revision
	if b.modified {
		rev += " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "socialgate %s\nrevision   %s\ntime       %s\ngo         %s %s/%s\n",
		b.version, rev, b.time, b.goVer, runtime.GOOS, runtime.GOARCH)
}
