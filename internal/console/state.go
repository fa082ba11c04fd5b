package console

// The state file (Config.StateFile): the clusters added on the Clusters
// page, so that they outlive a restart. The startup cluster is not in it:
// it comes from the flags every time.
//
//	{"version": 1, "clusters": [{"name": "staging", "bootstrap": ["k1:9092", "k2:9092"]}]}
//
// New reads it (loadState): a missing file means nothing was added yet; a
// file that is not JSON, or of another version, stops New with an error
// that names the file, since starting without those clusters and then
// overwriting the file on the next add would lose them. Entries that
// cannot be used (a bad name or address, a duplicate, the startup
// cluster's name, more than Config.MaxClusters) are skipped with a Warn,
// and written back as they were on every save, so fixing a flag or the
// file brings them back rather than finding them erased.
//
// Every add and remove rewrites the whole file under c.mu, the lock that
// changes the list, so two changes cannot write their lists out of order.
// The write is atomic (temporary file in the same directory, fsync,
// rename, fsync of the directory): after a crash the file holds the old
// list or the new one, never a torn one. When the write fails, the change
// is undone in memory and the action answers the error, so the user is
// never told "added" about a cluster a restart would forget.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// stateVersion is the format of the state file this console reads and
// writes; a file of another version is refused rather than guessed at.
const stateVersion = 1

// maxStateBytes bounds how much of a state file New reads: far more than
// Config.MaxClusters entries take.
const maxStateBytes = 1 << 20

// state is the JSON of the state file.
type state struct {
	Version  int             `json:"version"`
	Clusters []storedCluster `json:"clusters"`
}

// storedCluster is one added cluster in the state file.
type storedCluster struct {
	Name      string   `json:"name"`
	Bootstrap []string `json:"bootstrap"`
}

// readState reads the state file at path. A missing file is an empty
// state, and so is a path under a regular file (nothing can be there; the
// first save reports why it cannot write). Anything else that cannot be
// read or understood is an error that names the file and says what to do.
func readState(path string) (state, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return state{Version: stateVersion}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read console state: %w; fix its permissions or give another file", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return state{}, fmt.Errorf("read console state %s: %w; fix it or give another file", path, err)
	}
	if len(raw) > maxStateBytes {
		return state{}, fmt.Errorf("console state %s: larger than %d bytes; fix or delete it", path, maxStateBytes)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, fmt.Errorf("console state %s: not valid JSON (%v); fix or delete it (it lists the clusters added on the Clusters page)", path, err)
	}
	if st.Version != stateVersion {
		return state{}, fmt.Errorf("console state %s: version %d, but this console reads version %d; fix or delete it", path, st.Version, stateVersion)
	}
	return st, nil
}

// loadState adds the clusters saved in Config.StateFile after the startup
// one. New calls it before the console serves anything.
func (c *Console) loadState() error {
	path := c.cfg.StateFile
	if path == "" {
		return nil
	}
	st, err := readState(path)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dropped := 0
	for _, sc := range st.Clusters {
		var why string
		switch {
		case !validClusterName(sc.Name):
			why = "invalid name: use 1-64 letters, digits, '.', '_' or '-'"
		case c.clusters[0].name == sc.Name:
			why = "the startup cluster has that name"
		case c.findLocked(sc.Name) != nil:
			why = "a cluster of that name comes earlier in the file"
		case checkBrokers(sc.Bootstrap) != nil:
			why = "bootstrap: " + checkBrokers(sc.Bootstrap).Error()
		}
		if why != "" {
			c.cfg.Logger.Warn("console state: cluster skipped", "file", path, "name", sc.Name, "why", why)
			c.skipped = append(c.skipped, sc)
			continue
		}
		if len(c.clusters) >= c.cfg.MaxClusters {
			dropped++
			c.skipped = append(c.skipped, sc)
			continue
		}
		cl, err := newCluster(c.cfg, sc.Name, append([]string(nil), sc.Bootstrap...), false)
		if err != nil {
			c.cfg.Logger.Warn("console state: cluster skipped", "file", path, "name", sc.Name, "err", err)
			c.skipped = append(c.skipped, sc)
			continue
		}
		c.clusters = append(c.clusters, cl)
	}
	if dropped > 0 {
		c.cfg.Logger.Warn("console state: more clusters than the console keeps; the first ones kept",
			"file", path, "max_clusters", c.cfg.MaxClusters, "dropped", dropped)
	}
	c.cfg.Logger.Info("console clusters restored", "file", path, "clusters", len(c.clusters)-1)
	return nil
}

// changeLocked saves the list of clusters after a change to it. If the
// save fails, undo puts the list back as it was and the error (which
// names the file) is returned; when the new file was already in place
// (only the directory's fsync failed), the old list is written back too,
// so the file agrees with what the console shows. c.mu must be held for
// writing.
func (c *Console) changeLocked(undo func()) error {
	renamed, err := c.saveLocked()
	if err == nil {
		return nil
	}
	c.cfg.Logger.Error("save console state", "file", c.cfg.StateFile, "err", err)
	undo()
	if renamed {
		if _, rerr := c.saveLocked(); rerr != nil {
			c.cfg.Logger.Error("restore console state", "file", c.cfg.StateFile, "err", rerr)
		}
	}
	return err
}

// saveLocked writes the added clusters to Config.StateFile (nothing
// without one); renamed says the new file replaced the old one, even if
// an error followed. c.mu must be held.
func (c *Console) saveLocked() (renamed bool, err error) {
	if c.cfg.StateFile == "" {
		return false, nil
	}
	st := state{Version: stateVersion, Clusters: []storedCluster{}}
	for _, cl := range c.clusters {
		if !cl.startup {
			st.Clusters = append(st.Clusters, storedCluster{Name: cl.name, Bootstrap: cl.brokers})
		}
	}
	st.Clusters = append(st.Clusters, c.skipped...)
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return false, fmt.Errorf("save console state %s: %w", c.cfg.StateFile, err)
	}
	renamed, err = writeFileAtomic(c.cfg.StateFile, append(data, '\n'))
	if err != nil {
		return renamed, fmt.Errorf("save console state %s: %w", c.cfg.StateFile, err)
	}
	return true, nil
}

// writeFileAtomic replaces path with data so that a crash leaves the old
// file or the new one: it writes a temporary file (mode 0600) in the same
// directory, fsyncs it, renames it over path and fsyncs the directory. It
// makes the missing parent directories (mode 0700). renamed says the
// rename happened.
func writeFileAtomic(path string, data []byte) (renamed bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return true, err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return true, fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return true, nil
}
