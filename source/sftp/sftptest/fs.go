package sftptest

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"

	"github.com/pkg/sftp"
)

// rootFS serves one folder through pkg/sftp's request server. Request paths
// arrive cleaned and absolute ("/a/b"); they are joined under root after a
// second path.Clean, so ".." cannot climb out of it. Links are refused, so a
// client cannot make a path that leads out either.
type rootFS struct {
	root   string
	served *atomic.Uint64 // file bytes read by clients
}

func (r rootFS) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: r, FilePut: r, FileCmd: r, FileList: r}
}

func (r rootFS) local(p string) string {
	return filepath.Join(r.root, filepath.FromSlash(path.Clean("/"+p)))
}

// Fileread opens a file for reading.
func (r rootFS) Fileread(req *sftp.Request) (io.ReaderAt, error) {
	f, err := os.Open(r.local(req.Filepath))
	if err != nil {
		return nil, err
	}
	return countingFile{f, r.served}, nil
}

// countingFile counts the bytes clients read; the request server closes it.
type countingFile struct {
	*os.File
	n *atomic.Uint64
}

func (c countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(p, off)
	c.n.Add(uint64(n))
	return n, err
}

// Filewrite opens a file for writing with the request's flags.
func (r rootFS) Filewrite(req *sftp.Request) (io.WriterAt, error) {
	return r.openFile(req, os.O_WRONLY)
}

// OpenFile opens a file for reading and writing.
func (r rootFS) OpenFile(req *sftp.Request) (sftp.WriterAtReaderAt, error) {
	return r.openFile(req, os.O_RDWR)
}

func (r rootFS) openFile(req *sftp.Request, mode int) (*os.File, error) {
	pf := req.Pflags()
	flags := mode
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	if pf.Append {
		flags |= os.O_APPEND
	}
	return os.OpenFile(r.local(req.Filepath), flags, 0o644)
}

// Filecmd runs the commands that change the tree.
func (r rootFS) Filecmd(req *sftp.Request) error {
	p := r.local(req.Filepath)
	switch req.Method {
	case "Setstat":
		return r.setstat(req, p)
	case "Rename", "PosixRename":
		return os.Rename(p, r.local(req.Target))
	case "Rmdir", "Remove":
		return os.Remove(p)
	case "Mkdir":
		return os.Mkdir(p, 0o755)
	}
	return sftp.ErrSSHFxOpUnsupported // Link, Symlink: could point out of root
}

// PosixRename renames over an existing target.
func (r rootFS) PosixRename(req *sftp.Request) error {
	return os.Rename(r.local(req.Filepath), r.local(req.Target))
}

func (r rootFS) setstat(req *sftp.Request, p string) error {
	flags := req.AttrFlags()
	attrs := req.Attributes()
	if flags.Size {
		if err := os.Truncate(p, int64(attrs.Size)); err != nil {
			return err
		}
	}
	if flags.Permissions {
		if err := os.Chmod(p, fs.FileMode(attrs.Mode).Perm()); err != nil {
			return err
		}
	}
	if flags.Acmodtime {
		if err := os.Chtimes(p, attrs.AccessTime(), attrs.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// Filelist answers List, Stat and Readlink.
func (r rootFS) Filelist(req *sftp.Request) (sftp.ListerAt, error) {
	p := r.local(req.Filepath)
	switch req.Method {
	case "List":
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		infos := make([]os.FileInfo, 0, len(entries))
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				continue // removed since ReadDir
			}
			infos = append(infos, fi)
		}
		return listerAt(infos), nil
	case "Stat":
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat answers Lstat without following a final link.
func (r rootFS) Lstat(req *sftp.Request) (sftp.ListerAt, error) {
	fi, err := os.Lstat(r.local(req.Filepath))
	if err != nil {
		return nil, err
	}
	return listerAt{fi}, nil
}

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}
