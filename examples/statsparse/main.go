// Command statsparse converts ET:Legacy stats and endstats files to the
// canonical JSON of the project's format specification (stats-format.md
// section 11, endstats-format.md section 6).
//
//	go run ./examples/statsparse [-compat] [-pair] [-out DIR] [-bench N] PATH...
//
// A PATH is a file or a folder (its *.txt files, not recursive). With -out,
// one "<input file name>.json" is written per input into DIR; without it,
// one JSON object per line goes to stdout. -pair pairs round-2 files with
// round-1 files among all inputs and links endstats files to stats files,
// filling "r2" and "link". -compat reproduces the reference reader; the
// default is the parser's native mode. -bench N parses the inputs N times
// without writing anything and prints the best pass.
//
// Exit status: 0 when every file was read (a file that fails to parse is an
// "ok": false object, not a failure), 1 on usage or I/O errors.
package main

import (
	"bufio"

	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/roundfeed/roundfeed/parser"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statsparse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	compat := fs.Bool("compat", false, "reproduce the reference reader exactly")
	pair := fs.Bool("pair", false, "pair round-2 with round-1 files and link endstats files among all inputs")
	out := fs.String("out", "", "write one <input file name>.json per input into `DIR`")
	bench := fs.Int("bench", 0, "parse the inputs `N` times without writing and print the best pass")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: statsparse [-compat] [-pair] [-out DIR] [-bench N] PATH...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if fs.NArg() == 0 || *bench < 0 {
		fs.Usage()
		return 1
	}
	opt := parser.Options{}
	if *compat {
		opt.Mode = parser.Compat
	}
	inputs, err := readInputs(fs.Args(), opt)
	if err != nil {
		fmt.Fprintln(stderr, "statsparse:", err)
		return 1
	}
	if *bench > 0 {
		return runBench(inputs, opt, *pair, *bench, stdout)
	}
	objs := process(inputs, opt, *pair)
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintln(stderr, "statsparse:", err)
			return 1
		}
		for i, in := range inputs {
			p := filepath.Join(*out, in.Name+".json")
			if err := os.WriteFile(p, append(objs[i], '\n'), 0o644); err != nil {
				fmt.Fprintln(stderr, "statsparse:", err)
				return 1
			}
		}
		return 0
	}
	bw := bufio.NewWriter(stdout)
	for _, o := range objs {
		bw.Write(o)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(stderr, "statsparse:", err)
		return 1
	}
	return 0
}

// readInputs expands folders and reads every file. Two inputs with the same
// base name are refused: their outputs would collide and pairing works on
// base names.
func readInputs(paths []string, opt parser.Options) ([]parser.File, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err // a *fs.PathError: "stat PATH: reason"
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read folder %s: %w", p, err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".txt") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	sort.SliceStable(files, func(a, b int) bool { return filepath.Base(files[a]) < filepath.Base(files[b]) })
	limit := opt.MaxSize
	if limit <= 0 {
		limit = parser.DefaultMaxSize
	}
	seen := map[string]string{}
	inputs := make([]parser.File, 0, len(files))
	for _, f := range files {
		name := filepath.Base(f)
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s and %s have the same file name", prev, f)
		}
		seen[name] = f
		in, err := readFile(f, name, limit)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}

// readFile reads at most limit+1 bytes: the parser refuses larger files
// without looking at them, and the real size is reported.
func readFile(path, name string, limit int) (parser.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return parser.File{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, int64(limit)+1))
	if err != nil {
		return parser.File{}, fmt.Errorf("read %s: %w", path, err)
	}
	in := parser.File{Name: name, Data: data}
	if len(data) > limit {
		if fi, err := fh.Stat(); err == nil {
			in.Size = int(fi.Size())
		}
	}
	return in, nil
}

// process parses, pairs and renders every input.
func process(inputs []parser.File, opt parser.Options, pair bool) [][]byte {
	res := parser.ParseFiles(inputs, opt, pair)
	objs := make([][]byte, len(res))
	for i := range res {
		objs[i] = res[i].Canonical()
	}
	return objs
}

func runBench(inputs []parser.File, opt parser.Options, pair bool, n int, stdout io.Writer) int {
	var total int64
	for _, in := range inputs {
		total += int64(len(in.Data))
	}
	best := time.Duration(-1)
	for k := 0; k < n; k++ {
		start := time.Now()
		parser.ParseFiles(inputs, opt, pair)
		if d := time.Since(start); best < 0 || d < best {
			best = d
		}
	}
	secs := best.Seconds()
	mbps := 0.0
	if secs > 0 {
		mbps = float64(total) / 1e6 / secs
	}
	fmt.Fprintf(stdout, "go_seconds_per_pass=%.6f files=%d bytes=%d mb_per_s=%.1f\n", secs, len(inputs), total, mbps)
	return 0
}
