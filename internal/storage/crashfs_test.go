package storage

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// crashFS is an in-memory FS that simulates power loss. File contents are
// durable only up to the last Sync; directory entries (creates, renames,
// removes) only up to the last SyncDir of their directory. Directories
// themselves are durable when created. Crash returns the FS as a reboot
// would find it and kills this one: every later call fails, so the old
// Manager cannot write anything more.
type crashFS struct {
	mu      sync.Mutex // guards everything below and every node
	dead    bool
	dirs    map[string]bool
	live    map[string]*cnode // path → file, as the running program sees it
	durable map[string]*cnode // path → file, as a reboot would find it
	syncs   int               // Sync and SyncDir calls, for tests
}

// cnode is one file's content.
type cnode struct {
	data   []byte  // what reads see
	synced []byte  // what survives a crash
	ops    []cfsOp // writes and truncates since the last Sync, in order
}

// cfsOp is an unsynced write (data != nil) or truncate.
type cfsOp struct {
	off  int64
	data []byte
	size int64 // truncate target when data == nil
}

var errCrashed = errors.New("crashfs: machine crashed")

func newCrashFS() *crashFS {
	return &crashFS{dirs: map[string]bool{"/": true}, live: map[string]*cnode{}, durable: map[string]*cnode{}}
}

func (c *crashFS) check() error {
	if c.dead {
		return errCrashed
	}
	return nil
}

// Crash kills c and returns the file system a reboot would see. With
// keepSome, each file also keeps a random prefix of its unsynced writes
// (the last kept write possibly torn), as a disk may have written them.
func (c *crashFS) Crash(rng *rand.Rand, keepSome bool) *crashFS {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	n := newCrashFS()
	maps := map[*cnode]*cnode{}
	for path, node := range c.durable {
		nn, ok := maps[node]
		if !ok {
			data := slices.Clone(node.synced)
			if keepSome && len(node.ops) > 0 {
				k := rng.IntN(len(node.ops) + 1)
				for i, op := range node.ops[:k] {
					if i == k-1 && op.data != nil && rng.IntN(2) == 0 {
						op.data = op.data[:rng.IntN(len(op.data)+1)]
					}
					data = applyOp(data, op)
				}
			}
			nn = &cnode{data: data, synced: slices.Clone(data)}
			maps[node] = nn
		}
		n.live[path] = nn
		n.durable[path] = nn
	}
	for d := range c.dirs {
		n.dirs[d] = true
	}
	return n
}

func applyOp(data []byte, op cfsOp) []byte {
	if op.data == nil {
		if op.size < int64(len(data)) {
			return data[:op.size]
		}
		return append(data, make([]byte, op.size-int64(len(data)))...)
	}
	end := op.off + int64(len(op.data))
	if end > int64(len(data)) {
		data = append(data, make([]byte, end-int64(len(data)))...)
	}
	copy(data[op.off:], op.data)
	return data
}

// Corrupt overwrites bytes of a file, durably (a test's bit rot).
func (c *crashFS) Corrupt(path string, off int64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.live[path]
	n.data = applyOp(n.data, cfsOp{off: off, data: b})
	n.synced = applyOp(n.synced, cfsOp{off: off, data: b})
}

// Contents returns a copy of a live file, nil if missing.
func (c *crashFS) Contents(path string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.live[path]; n != nil {
		return slices.Clone(n.data)
	}
	return nil
}

// Syncs returns how many Sync and SyncDir calls were made.
func (c *crashFS) Syncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}

func clean(p string) string { return filepath.Clean(p) }

func (c *crashFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return nil, err
	}
	name = clean(name)
	if !c.dirs[filepath.Dir(name)] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if c.dirs[name] {
		return &crashFile{c: c, name: name, dir: true}, nil
	}
	n := c.live[name]
	switch {
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case n != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case n == nil:
		n = &cnode{}
		c.live[name] = n
	case flag&os.O_TRUNC != 0:
		n.ops = append(n.ops, cfsOp{size: 0})
		n.data = n.data[:0]
	}
	return &crashFile{c: c, n: n, name: name}, nil
}

func (c *crashFS) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	delete(c.live, clean(name))
	return nil
}

func (c *crashFS) RemoveAll(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	path = clean(path)
	for p := range c.live {
		if p == path || strings.HasPrefix(p, path+"/") {
			delete(c.live, p)
		}
	}
	for d := range c.dirs {
		if d == path || strings.HasPrefix(d, path+"/") {
			delete(c.dirs, d)
		}
	}
	return nil
}

func (c *crashFS) Rename(oldpath, newpath string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	oldpath, newpath = clean(oldpath), clean(newpath)
	n := c.live[oldpath]
	if n == nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	c.live[newpath] = n
	delete(c.live, oldpath)
	return nil
}

func (c *crashFS) MkdirAll(path string, perm fs.FileMode) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	for p := clean(path); !c.dirs[p]; p = filepath.Dir(p) {
		c.dirs[p] = true
	}
	return nil
}

func (c *crashFS) ReadDir(name string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return nil, err
	}
	name = clean(name)
	if !c.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []string
	for p := range c.live {
		if filepath.Dir(p) == name {
			out = append(out, filepath.Base(p))
		}
	}
	for d := range c.dirs {
		if d != name && filepath.Dir(d) == name {
			out = append(out, filepath.Base(d))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (c *crashFS) SyncDir(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	name = clean(name)
	c.syncs++
	for p := range c.durable {
		if filepath.Dir(p) == name && c.live[p] == nil {
			delete(c.durable, p)
		}
	}
	for p, n := range c.live {
		if filepath.Dir(p) == name {
			c.durable[p] = n
		}
	}
	return nil
}

// crashFile is an open file of a crashFS.
type crashFile struct {
	c      *crashFS
	n      *cnode
	name   string
	dir    bool
	closed bool
}

func (f *crashFile) check() error {
	if err := f.c.check(); err != nil {
		return err
	}
	if f.closed {
		return fs.ErrClosed
	}
	return nil
}

func (f *crashFile) ReadAt(p []byte, off int64) (int, error) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *crashFile) WriteAt(p []byte, off int64) (int, error) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	op := cfsOp{off: off, data: slices.Clone(p)}
	f.n.ops = append(f.n.ops, op)
	f.n.data = applyOp(f.n.data, op)
	return len(p), nil
}

func (f *crashFile) Sync() error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	f.c.syncs++
	if f.dir {
		return nil
	}
	for _, op := range f.n.ops {
		f.n.synced = applyOp(f.n.synced, op)
	}
	f.n.ops = nil
	return nil
}

func (f *crashFile) Truncate(size int64) error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	op := cfsOp{size: size}
	f.n.ops = append(f.n.ops, op)
	f.n.data = applyOp(f.n.data, op)
	return nil
}

func (f *crashFile) Size() (int64, error) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	return int64(len(f.n.data)), nil
}

func (f *crashFile) Close() error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	return nil
}
