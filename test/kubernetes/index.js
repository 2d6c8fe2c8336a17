// Lets `node --test test/kubernetes/` run this directory's tests (the runner executes a directory as its index).
// `scripts/test.sh` finds the same files through its test/**/*.test.ts glob, one process each.
import './objects.test.ts';
import './watch.test.ts';
import './preflight.test.ts';
import './resources.test.ts';
import './cluster.test.ts';
import './velero.test.ts';
import './csi-snapshot.test.ts';
import './platform.test.ts';
import './examples.test.ts';
