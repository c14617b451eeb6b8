package proxy

import "testing"

// TestReplacePrefix is the table from the HTTPPathModifier documentation.
func TestReplacePrefix(t *testing.T) {
	for _, tc := range []struct{ path, prefix, repl, want string }{
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		{"/a/b/c", "/", "/x", "/x/a/b/c"},
	} {
		t.Run(tc.path+"|"+tc.prefix+"|"+tc.repl, func(t *testing.T) {
			if got := replacePrefix(tc.path, tc.prefix, tc.repl); got != tc.want {
				t.Errorf("replacePrefix(%q, %q, %q) = %q, want %q", tc.path, tc.prefix, tc.repl, got, tc.want)
			}
		})
	}
}
