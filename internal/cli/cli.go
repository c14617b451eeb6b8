// Package cli owns the splitproof command line: it parses flags for each
// subcommand, wires the component packages together and maps errors to exit
// codes. It is the only package that prints to the terminal or exits.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// Exit codes that CI can trust.
const (
	ExitOK       = 0 // everything passed
	ExitFail     = 1 // a verdict failed (a split is wrong)
	ExitBadInput = 2 // bad flags, bad files, unreachable targets
	// ExitInconclusive: no verdict failed, but at least one could not
	// decide (a sequential test at its cap, an interrupted run). It is
	// neither a pass nor evidence of a wrong split, so it gets its own code.
	ExitInconclusive = 3
)

// exitCodesHelp is the exit-code paragraph of every verdict command's --help.
const exitCodesHelp = `Exit codes: 0 PASS (every verdict passed), 1 FAIL (a split differs from its
weights), 2 bad input or an unreachable gateway, 3 INCONCLUSIVE (no verdict
failed but one could not decide, e.g. a sequential test at its --requests cap
or a run interrupted by SIGINT/SIGTERM; the report says about how many more
requests would decide).`

// ExitError carries the exit code an error should produce.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// BadInput marks err as the user's input being wrong (exit code 2).
func BadInput(err error) error { return &ExitError{Code: ExitBadInput, Err: err} }

// Failed marks err as a failed verdict (exit code 1).
func Failed(err error) error { return &ExitError{Code: ExitFail, Err: err} }

// Inconclusive marks err as a verdict that could not decide (exit code 3).
func Inconclusive(err error) error { return &ExitError{Code: ExitInconclusive, Err: err} }

// Env is what a subcommand may touch of the outside world; tests fill it with buffers.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	Getenv func(string) string
	// Logger writes structured logs to Stderr.
	Logger *slog.Logger
}

// Command is one subcommand.
type Command struct {
	Name  string
	Short string // one line for the command list
	Run   func(ctx context.Context, env *Env, args []string) error
}

// Commands lists the subcommands in the order `splitproof help` shows them.
func Commands() []Command {
	return []Command{
		demoCommand(),
		replayCommand(),
		checkCommand(),
		suiteCommand(),
		proxyCommand(),
		versionCommand(),
		fakeopenaiCommand(),
		simCommand(),
		verifyCommand(),
		helloworldCommand(),
		tcpEchoCommand(),
		kindCommand(),
		provisionerCommand(),
	}
}

// Version is set at build time with -ldflags "-X github.com/splitproof/splitproof/internal/cli.Version=…".
var Version = "dev"

func versionCommand() Command {
	return Command{
		Name:  "version",
		Short: "print the splitproof version",
		Run: func(_ context.Context, env *Env, args []string) error {
			fs := NewFlagSet(env, "version", "version\n\nPrints the splitproof version (set when the binary is built).", "")
			if err := ParseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return BadInput(fmt.Errorf("version: unexpected arguments %q", fs.Args()))
			}
			_, err := fmt.Fprintf(env.Stdout, "splitproof %s\n", Version)
			return err
		},
	}
}

// Main runs the command line and exits with the code Run's error implies.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv}
	env.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("SPLITPROOF_LOG"))}))
	err := Run(ctx, env, os.Args[1:])
	os.Exit(exitCode(env.Stderr, err))
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// exitCode prints err (if any) once and picks the exit code.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "splitproof: %v\n", err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFail
}

// Run dispatches args to a subcommand. It never exits the process.
func Run(ctx context.Context, env *Env, args []string) error {
	if env.Logger == nil {
		env.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Run(ctx, env, []string{args[1], "--help"})
		}
		usage(env.Stdout)
		if len(args) == 0 {
			return BadInput(errors.New("no subcommand given"))
		}
		return nil
	}
	for _, c := range Commands() {
		if c.Name == args[0] {
			return c.Run(ctx, env, args[1:])
		}
	}
	return BadInput(fmt.Errorf("unknown subcommand %q: run `splitproof help` for the list", args[0]))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `splitproof proves that a Gateway API weighted traffic split really happens.

Usage: splitproof <subcommand> [flags]

Subcommands:
`)
	cmds := Commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Name, c.Short)
	}
	fmt.Fprint(w, "\nRun `splitproof <subcommand> --help` for its flags and examples.\n")
}

// NewFlagSet returns a flag set that reports errors instead of exiting and
// prints usage (the synopsis, then the flags, then examples) to env.Stderr.
func NewFlagSet(env *Env, name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	st := &flagState{}
	fs.Usage = func() {
		// --help asked for the usage: it is the command's output (stdout).
		// After a bad flag it goes with the error (stderr).
		w := env.Stderr
		if st.help {
			w = env.Stdout
		}
		fs.SetOutput(w)
		defer fs.SetOutput(env.Stderr)
		fmt.Fprintf(w, "Usage: splitproof %s\n\n", strings.TrimSpace(synopsis))
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(examples, "\n"))
		}
	}
	flagStates.Store(fs, st)
	return fs
}

// flagState is what ParseFlags tells a flag set's usage function.
type flagState struct{ help bool }

// flagStates maps each NewFlagSet to its state (a CLI run makes a few).
var flagStates sync.Map

// helpAsked reports whether args ask for help the way the flag package
// reads them: -h, -help, --h or --help before the first argument that is
// not a flag.
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			return false
		}
		switch a {
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

// ParseFlags parses args, turning flag errors into bad-input errors.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if st, ok := flagStates.Load(fs); ok {
		st.(*flagState).help = helpAsked(args)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return BadInput(err)
	}
	return nil
}

// ParseInterspersed parses flags that may come before, between or after
// the positional arguments (the flag package stops at the first of them),
// as "check URL --expect …" is written, and returns the positional ones.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := ParseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
