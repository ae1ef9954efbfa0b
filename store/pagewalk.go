package store

import (
	"fmt"
	"io"
)

// pageWalker reads pages and remembers which are in use, so that no page
// is reached twice: a loop in a damaged tree would otherwise never end.
type pageWalker struct {
	r    io.ReaderAt
	ps   int64
	hwm  uint64
	used map[uint64]bool
}

// page reads page id with its overflow pages and checks its header.
func (w *pageWalker) page(id uint64) (flags uint16, count int, p []byte, err error) {
	if id < 2 || id >= w.hwm {
		return 0, 0, nil, fmt.Errorf("page %d is outside the file's %d pages", id, w.hwm)
	}
	head := make([]byte, pageHeaderSize)
	if _, err := w.r.ReadAt(head, int64(id)*w.ps); err != nil {
		return 0, 0, nil, fmt.Errorf("page %d does not read: %w", id, err)
	}
	gotID, overflow := boltOrder.Uint64(head[0:]), uint64(boltOrder.Uint32(head[12:]))
	flags, count = boltOrder.Uint16(head[8:]), int(boltOrder.Uint16(head[10:]))
	switch {
	case gotID != id:
		return 0, 0, nil, fmt.Errorf("page %d says it is page %d", id, gotID)
	case overflow >= w.hwm-id:
		return 0, 0, nil, fmt.Errorf("page %d runs %d pages past the file's %d", id, overflow+1, w.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if w.used[i] {
			return 0, 0, nil, fmt.Errorf("page %d is reached twice", i)
		}
		w.used[i] = true
	}
	p = make([]byte, int64(overflow+1)*w.ps)
	if _, err := w.r.ReadAt(p, int64(id)*w.ps); err != nil {
		return 0, 0, nil, fmt.Errorf("page %d does not read: %w", id, err)
	}
	return flags, count, p, nil
}

// tree checks the pages of a bucket whose root is page id.
func (w *pageWalker) tree(id uint64) error {
	flags, count, p, err := w.page(id)
	if err != nil {
		return err
	}
	switch flags {
	case branchPageFlag:
		return w.branch(id, count, p)
	case leafPageFlag:
		_, err := w.leaf(fmt.Sprintf("page %d", id), count, p)
		return err
	}
	return fmt.Errorf("page %d has type %#x where a branch or leaf page belongs", id, flags)
}

func (w *pageWalker) branch(id uint64, count int, p []byte) error {
	where := fmt.Sprintf("page %d", id)
	if count == 0 {
		return fmt.Errorf("%s is a branch page without elements", where)
	}
	_, err := elements(where, count, p, false, func(e int, _ []byte) error {
		return w.tree(boltOrder.Uint64(p[e+8:]))
	})
	return err
}

// leaf checks a leaf page's elements, and the buckets stored in it, and
// returns where its data ends.
func (w *pageWalker) leaf(where string, count int, p []byte) (int, error) {
	return elements(where, count, p, true, func(e int, value []byte) error {
		if boltOrder.Uint32(p[e:])&bucketLeafFlag == 0 {
			return nil
		}
		return w.bucket(fmt.Sprintf("%s, element %d", where, (e-pageHeaderSize)/elementSize), value)
	})
}

// elements checks that a page's elements lie where bbolt writes them
// (common.WriteInodeToPage): the element headers, then each key and value
// in turn, each right after the one before. A damaged count, position or
// size breaks that chain. fn sees each element's offset and value; the
// result is where the data ends.
func elements(where string, count int, p []byte, leaf bool, fn func(e int, value []byte) error) (int, error) {
	next := pageHeaderSize + count*elementSize
	if next > len(p) {
		return 0, fmt.Errorf("%s counts %d elements, more than it holds", where, count)
	}
	for i := range count {
		e := pageHeaderSize + i*elementSize
		pos, ksize, vsize := boltOrder.Uint32(p[e:]), boltOrder.Uint32(p[e+4:]), uint32(0)
		if leaf {
			pos, ksize, vsize = boltOrder.Uint32(p[e+4:]), boltOrder.Uint32(p[e+8:]), boltOrder.Uint32(p[e+12:])
		}
		start := uint64(e) + uint64(pos)
		end := start + uint64(ksize) + uint64(vsize)
		switch {
		case start != uint64(next):
			return 0, fmt.Errorf("%s, element %d: its key is at byte %d, not %d, where bbolt puts it", where, i, start, next)
		case ksize == 0:
			return 0, fmt.Errorf("%s, element %d has an empty key", where, i)
		case end > uint64(len(p)):
			return 0, fmt.Errorf("%s, element %d: its key and value run past the page (%d > %d bytes)", where, i, end, len(p))
		}
		next = int(end)
		if err := fn(e, p[end-uint64(vsize):end]); err != nil {
			return 0, err
		}
	}
	return next, nil
}

// bucket checks a bucket stored as a leaf value: a header naming its root
// page, or, for a small bucket, root 0 and its one leaf page inline.
func (w *pageWalker) bucket(where string, v []byte) error {
	if len(v) < bucketHeaderSize {
		return fmt.Errorf("%s is a bucket of %d bytes, too short for its header", where, len(v))
	}
	if root := boltOrder.Uint64(v); root != 0 {
		return w.tree(root)
	}
	inline := v[bucketHeaderSize:]
	if len(inline) < pageHeaderSize {
		return fmt.Errorf("%s is an inline bucket too short for its page", where)
	}
	if flags := boltOrder.Uint16(inline[8:]); flags != leafPageFlag {
		return fmt.Errorf("%s is an inline bucket whose page has type %#x", where, flags)
	}
	end, err := w.leaf(where+" (inline)", int(boltOrder.Uint16(inline[10:])), inline)
	if err == nil && end != len(inline) {
		err = fmt.Errorf("%s is an inline bucket of %d bytes whose page holds %d", where, len(inline), end)
	}
	return err
}

// freelist checks the free list page: every free page inside the file,
// free once, and not in use by a bucket at the same time.
func (w *pageWalker) freelist(id uint64) error {
	flags, count, p, err := w.page(id)
	if err != nil {
		return err
	}
	if flags != freelistPageFlag {
		return fmt.Errorf("free list page %d has type %#x", id, flags)
	}
	ids := p[pageHeaderSize:]
	n := uint64(count)
	if count == 0xFFFF { // the real count is the first element
		n = boltOrder.Uint64(ids)
		ids = ids[8:]
	}
	if n > uint64(len(ids)/8) {
		return fmt.Errorf("free list page %d counts %d pages, more than it holds", id, n)
	}
	free := make(map[uint64]bool, n)
	for i := range n {
		f := boltOrder.Uint64(ids[8*i:])
		switch {
		case f < 2 || f >= w.hwm:
			return fmt.Errorf("free list page %d lists page %d, outside the file's %d pages", id, f, w.hwm)
		case w.used[f]:
			return fmt.Errorf("page %d is both free and in use", f)
		case free[f]:
			return fmt.Errorf("free list page %d lists page %d twice", id, f)
		}
		free[f] = true
	}
	return nil
}
