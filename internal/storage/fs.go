package storage

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
)

// FS is the file system the storage writes to. OSFS is the real one; tests
// substitute one that forgets unsynced bytes on a simulated power loss.
// Paths use the OS separator.
type FS interface {
	// OpenFile opens name with os.OpenFile flags.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Remove removes one file; a missing file is not an error.
	Remove(name string) error
	// RemoveAll removes a directory tree; a missing tree is not an error.
	RemoveAll(path string) error
	// Rename atomically replaces newpath with oldpath.
	Rename(oldpath, newpath string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(path string, perm fs.FileMode) error
	// ReadDir lists the entry names of a directory, sorted.
	ReadDir(name string) ([]string, error)
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(name string) error
}

// File is an open file of an FS. ReadAt and WriteAt may be called
// concurrently.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Sync makes the file's data durable (fdatasync on Linux).
	Sync() error
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Size is the current size of the file.
	Size() (int64, error)
	Close() error
}

// OSFS is the operating system's file system.
type OSFS struct{}

// osFile wraps *os.File so that Sync is fdatasync on Linux.
type osFile struct{ *os.File }

// OpenFile implements FS.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Remove implements FS.
func (OSFS) Remove(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// RemoveAll implements FS.
func (OSFS) RemoveAll(path string) error { return os.RemoveAll(path) }

// Rename implements FS.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// ReadDir implements FS.
func (OSFS) ReadDir(name string) ([]string, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

// SyncDir implements FS.
func (OSFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Sync implements File with fdatasync where the OS has it.
func (f osFile) Sync() error { return fdatasync(f.File) }

// Size implements File.
func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
