package parser_test

import (
	"errors"
	"fmt"

	"github.com/roundfeed/roundfeed/parser"
)

const r1File = "^7Server\\supply\\legacy3\\1\\2\\1\\12:00\\9:41\\581352\n" +
	"12C9791E\\^rvi^ad\\0\\2\\16 120 400 9 7 30 \t2100\t1500\t0\t0\t3\t1\t0\t0\t81.5\t44\t4\t3\t5\t0\t2\t0\t0\t1\t0\t2\t400\t0.0\t9.7\t0.0\t18.3\t1.8\t1.3\t3\t71\t1\t0\t0\t0\t0\t2\t0\t0\t0\n" +
	"OMNIBOT0\\^o[BOT]^7Hawk\\0\\1\\2048 3 10 1 2 0 \t300\t700\t0\t0\t0\t0\t0\t0\t60.0\t5\t0\t0\t0\t0\t0\t0\t0\t0\t0\t1\t10\t0.0\t9.7\t0.0\t20.0\t2.0\t0.3\t0\t10\t0\t0\t0\t0\t0\t0\t0\t0\t0\n"

const r2File = "^7Server\\supply\\legacy3\\2\\1\\1\\9:41\\74:00\\512000\n" +
	"12C9791E\\^rvi^ad\\1\\2\\16 200 700 15 11 50 \t3900\t2600\t0\t0\t5\t1\t0\t0\t80.0\t40\t3\t2\t4\t0\t1\t0\t0\t0\t0\t1\t700\t0.0\t18.2\t0.0\t15.0\t1.3\t1.4\t2\t60\t0\t0\t0\t0\t0\t1\t0\t0\t0\n"

func ExampleParseStats() {
	st, err := parser.ParseStats("2026-01-18-220832-supply-round-1.txt", []byte(r1File), parser.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Header.Map, st.Header.RoundTimeSeconds, st.Round.RoundOutcome)
	for _, p := range st.Players {
		fmt.Printf("%s bot=%v kills=%d deaths=%d time=%s dpm=%.1f\n", p.Name, p.IsBot, p.Kills, p.Deaths, p.TimeDisplay, p.DPM)
	}
	// Output:
	// supply 581 Completed
	// vid bot=false kills=9 deaths=7 time=9:42 dpm=216.5
	// [BOT]Hawk bot=true kills=1 deaths=2 time=9:42 dpm=30.9
}

func ExampleParseStats_errors() {
	_, err := parser.ParseStats("2026-01-18-220832-supply-round-1.txt", []byte("not\\a\\header\n"), parser.Options{})
	var pe *parser.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Code, pe.Line, pe.Field)
	}
	_, err = parser.ParseStats("big.txt", make([]byte, 100), parser.Options{MaxSize: 10})
	fmt.Println(errors.Is(err, parser.ErrTooLarge))
	// Output:
	// invalid_header 1 header
	// true
}

func ExampleDifferential() {
	opt := parser.Options{}
	r1, _ := parser.ParseStats("2026-01-18-220832-supply-round-1.txt", []byte(r1File), opt)
	r2, _ := parser.ParseStats("2026-01-18-225332-supply-round-2.txt", []byte(r2File), opt)
	res := parser.Differential(r1, r2, opt)
	for _, p := range res.Players {
		fmt.Printf("%s %s kills=%d deaths=%d damage=%d seconds=%d\n", p.Name, p.Source, p.Kills, p.Deaths, p.DamageGiven, p.TimePlayedSeconds)
	}
	// Output:
	// vid differential kills=6 deaths=4 damage=1800 seconds=510
}

func ExamplePairR1() {
	r2, _ := parser.ValidateName("2026-01-18-225332-supply-round-2.txt")
	var cands []parser.FileName
	for _, n := range []string{
		"2026-01-18-220832-supply-round-1.txt",
		"2026-01-18-221500-x-supply-round-1.txt", // another map: only compat's glob takes it
		"2026-01-18-230000-supply-round-1.txt",   // after the R2
	} {
		f, _ := parser.ValidateName(n)
		cands = append(cands, f)
	}
	native, _ := parser.PairR1(r2, cands, parser.Options{})
	compat, _ := parser.PairR1(r2, cands, parser.Options{Mode: parser.Compat})
	fmt.Println(native)
	fmt.Println(compat)
	// Output:
	// 2026-01-18-220832-supply-round-1.txt
	// 2026-01-18-221500-x-supply-round-1.txt
}

func ExampleLinkEndstats() {
	end, _ := parser.ValidateName("2026-01-18-225330-supply-round-2-endstats.txt")
	st, _ := parser.ValidateName("2026-01-18-225332-supply-round-2.txt")
	l, ok := parser.LinkEndstats(end, []parser.FileName{st}, parser.Options{})
	fmt.Println(ok, l.StatsFile, l.DeltaSeconds)
	// Output:
	// true 2026-01-18-225332-supply-round-2.txt 2
}

func ExampleParseEndstats() {
	data := "Most damage given\tKr0ne\t8578\n" +
		"Full respawn king\tHydra\t10.93 percent, 3.28 min\n" +
		"VS_HEADER\tvid\t467EB6F4BBB3CC622B9181FFCA25ACEB\n" +
		"Hydra\t13\t3\n"
	es, err := parser.ParseEndstats("2026-01-18-232926-sw_goldrush_te-round-2-endstats.txt", []byte(data), parser.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range es.Awards {
		fmt.Printf("%s: %s %v\n", a.Title, a.Player, a.Number)
	}
	for _, v := range es.Versus {
		fmt.Printf("%s vs %s: %d/%d\n", v.Subject, v.Player, v.Kills, v.Deaths)
	}
	// Output:
	// Most damage given: Kr0ne 8578
	// Full respawn king: Hydra 10.93
	// vid vs Hydra: 13/3
}

func ExampleValidateName() {
	for _, n := range []string{
		"2026-01-15-222119-te_escape2-round-1.txt",
		"../../etc/passwd",
		"2026-02-30-222119-te_escape2-round-1.txt",
	} {
		f, err := parser.ValidateName(n)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(f.Map, f.Round, f.Kind, f.Time.Format("2006-01-02 15:04:05"))
	}
	// Output:
	// te_escape2 1 stats 2026-01-15 22:21:19
	// parser: invalid file name: path separator
	// parser: invalid file name: date is not a real date
}

func ExampleParseFiles() {
	res := parser.ParseFiles([]parser.File{
		{Name: "2026-01-18-220832-supply-round-1.txt", Data: []byte(r1File)},
		{Name: "2026-01-18-225332-supply-round-2.txt", Data: []byte(r2File)},
	}, parser.Options{}, true)
	fmt.Println(res[1].R2.Status, res[1].R2.R1File, res[1].R2.PairConfidence)
	fmt.Println(len(res[1].Canonical()) > 0)
	// Output:
	// differential 2026-01-18-220832-supply-round-1.txt confirmed
	// true
}
