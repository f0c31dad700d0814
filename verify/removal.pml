/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A model of devlife's active references, removal, child add and
 * self-removal (src/core/active.c, remove.c, device.c; docs/design.md),
 * checked by Spin (`make verify`, docs/reliability.md).
 *
 * Two devices: P, a root, LIVE at the start, and C, built under P by an
 * adder (NEW until then). Six processes run every interleaving of:
 *   - a user of P and a user of C (enter, use, exit);
 *   - an adder that adds C under P (entering P first, as dl_device_add());
 *   - a wait-mode remover of P (removes C with it, as a parent teardown);
 *   - a try-mode remover of P (refused, rolled back, while anyone is in);
 *   - C removing itself from inside its own user (the sysfs `remove`
 *     attribute: dl_device_remove_self()).
 *
 * Safety (assertions):
 *   S1 no enter succeeds on a DEAD device, nor on one whose removal has
 *      passed its drain (the point of no return; before the gate closes
 *      an enter may still win, and is then drained or rolled back);
 *   S2 no orphan: C is never LIVE or linked under a DEAD P;
 *   S3 exactly one removal: one remover commits per device; every
 *      successful remove returns with the device DEAD;
 *   S4 at the end every active reference is back to zero and the gate
 *      of every LIVE device is open.
 * Deadlock: every process must reach its end (Spin's invalid end states).
 *
 * Abstractions. The topology lock and wait_lock are atomic blocks (each
 * is held only around the list or state changes it guards); the active
 * count of a device is one counter (the per-thread slots summed after
 * membarrier(), which makes the sum exact: Dekker's protocol with
 * sequential consistency, which is what the barrier buys); enter is
 * "count++, then look at the gate" in two steps, so the remover can close
 * the gate between them. Depth two: C has no children.
 *
 * Mutants (`make verify` checks that each one fails, i.e. that the model
 * can see the bug): compile with one of
 *   -DNO_GATE_CHECK          enter ignores the gate                -> S1
 *   -DNO_ADD_STATE_CHECK -DNO_SECOND_WALK
 *                            add links under a removing parent and
 *                            removal does not look again           -> S2
 *   -DNO_ADD_ENTER -DNO_ADD_STATE_CHECK
 *                            add without entering the parent       -> S2
 *   -DNO_SINGLE_WINNER       a second remover runs the removal too -> S3
 *   -DNO_STATE_WAIT          a losing remover returns at once      -> S3
 *   -DSELF_REMOVE_KEEPS_REF  remove_self keeps its active ref      -> deadlock
 */

#define P 0
#define C 1
#define NDEV 2

#define NEW 0
#define LIVE 1
#define REMOVING 2
#define DEAD 3

#define WAIT 0
#define TRY 1

#define OK 0
#define EBUSY 16
#define EINVAL 22

byte state[NDEV];
byte deact[NDEV];      /* gate: removals holding it closed */
byte users[NDEV];     /* active references */
bool linked[NDEV];     /* C in P's children list */
bool committed[NDEV];  /* a removal passed its drain */
byte removals[NDEV];   /* removals that committed */

/* ------------------------------------------------------------------ */
/* Active references                                                   */

inline enter(d, ok)
{
	users[d]++;
#ifdef NO_GATE_CHECK
	ok = true;
#else
	if
	:: deact[d] > 0 -> users[d]--; ok = false
	:: else -> ok = true
	fi;
#endif
}

inline leave(d)
{
	assert(users[d] > 0);
	users[d]--
}

/* S1, right after a successful enter and while inside. */
inline check_inside(d)
{
	assert(state[d] != DEAD);
	assert(!committed[d])
}

/* ------------------------------------------------------------------ */
/* Removal                                                             */

/*
 * Walk P's subtree under the topology lock: close the gate of every
 * device not yet walked (w[] and found are the remover's own locals).
 * Sets found if it walked a new one.
 */
inline walk(d)
{
	atomic {
		found = false;
		if
		:: !w[d] -> w[d] = true; deact[d]++; found = true
		:: else -> skip
		fi;
		if
		:: d == P && linked[C] && !w[C] ->
			w[C] = true; deact[C]++; found = true
		:: else -> skip
		fi
	}
}

#define anyone_inside ((w[P] && users[P] > 0) || (w[C] && users[C] > 0))

/* A refused removal: reopen what it closed, LIVE again. */
inline rollback(d)
{
	atomic {
		if :: w[P] -> deact[P]-- :: else -> skip fi;
		if :: w[C] -> deact[C]-- :: else -> skip fi;
		w[P] = false; w[C] = false;
		state[d] = LIVE
	}
}

/* The removal of a leaf, by whoever won it (C's own remover, or P's
 * removal removing its children); lw is the remover's local. */
inline remove_leaf(c)
{
	atomic {                              /* walk: close its gate */
		if
		:: !lw -> lw = true; deact[c]++
		:: else -> skip
		fi
	};
	(users[c] == 0);                      /* drain */
	atomic {
		committed[c] = true;
		removals[c]++;
		assert(removals[c] == 1)      /* S3 */
	};
	/* driver remove; unlink; DEAD (its gate stays closed for good) */
	linked[c] = false;
	state[c] = DEAD
}

/*
 * Win LIVE -> REMOVING, or wait for the winner: until DEAD (then 0) or
 * LIVE again (a refused removal: compete again).
 */
inline win_or_wait(d, won, ret)
{
	won = false;
	do
	:: atomic {
		if
		:: state[d] == DEAD -> ret = OK; break
		:: state[d] == NEW -> ret = EINVAL; break
		:: state[d] == LIVE -> state[d] = REMOVING; won = true; break
		:: state[d] == REMOVING ->
#ifdef NO_SINGLE_WINNER
			won = true; break
#elif defined(NO_STATE_WAIT)
			ret = OK; break
#else
			skip
#endif
		fi
	   };
	   atomic { state[d] != REMOVING }    /* wait for the state to change */
	od
}

/* dl_device_remove() of a leaf (C). */
inline remove_c(ret)
{
	bool won_c, lw;

	win_or_wait(C, won_c, ret);
	if
	:: won_c -> remove_leaf(C); ret = OK
	:: else -> skip
	fi
}

/* dl_device_remove() of P: its subtree with it. */
inline remove_p(mode, ret)
{
	bool won, w[NDEV], found, cwon, lw;
	byte walks = 0;

	win_or_wait(P, won, ret);
	if
	:: !won -> goto out
	:: else -> skip
	fi;
	do
	:: walk(P);
	   if
	   :: !found -> break
	   :: else -> skip
	   fi;
#ifdef ASSERT_SECOND_WALK_IDLE
	   /* an experiment: does a later walk ever find a new child? */
	   assert(walks == 0);
#endif
	   walks++;
	   if
	   :: mode == TRY ->
		atomic {                      /* the exact sum */
			if
			:: anyone_inside -> rollback(P); ret = EBUSY
			:: else -> skip
			fi
		};
		if
		:: ret == EBUSY -> goto out
		:: else -> skip
		fi
	   :: mode == WAIT ->
		atomic { !anyone_inside }     /* drain the subtree */
	   fi;
#ifdef NO_SECOND_WALK
	   break
#endif
	od;
	/* Committed: nobody is inside and nobody gets in again. */
	atomic {
		committed[P] = true;
		if :: w[C] -> committed[C] = true :: else -> skip fi;
		removals[P]++;
		assert(removals[P] == 1)      /* S3 */
	};
	/* Remove the children, each as dl_device_remove(WAIT) does. */
	if
	:: linked[C] ->
		win_or_wait(C, cwon, ret);
		if
		:: cwon -> remove_leaf(C)
		:: else -> skip
		fi
	:: else -> skip
	fi;
	/* work cancel, driver remove, unlink, DEAD */
	assert(!linked[C] || state[C] == DEAD);
	state[P] = DEAD;                      /* gates stay closed for good */
	ret = OK;
out:
	skip
}

/* ------------------------------------------------------------------ */
/* The processes                                                       */

proctype user(byte d)
{
	bool ok;

	enter(d, ok);
	if
	:: ok -> check_inside(d); check_inside(d); leave(d)
	:: else -> skip
	fi
}

/* dl_device_add(C, P) */
proctype adder()
{
	bool ok = true;

#ifndef NO_ADD_ENTER
	enter(P, ok);
#endif
	if
	:: ok ->
#ifndef NO_ADD_ENTER
		check_inside(P);
#endif
		atomic {                      /* topology lock */
#ifndef NO_ADD_STATE_CHECK
			if
			:: state[P] != LIVE -> skip
			:: else ->
#endif
				assert(state[P] != DEAD);
				linked[C] = true;
				state[C] = LIVE;
				deact[C] = 0      /* built closed, opened now */
#ifndef NO_ADD_STATE_CHECK
			fi
#endif
		};
#ifndef NO_ADD_ENTER
		leave(P)
#endif
	:: else -> skip
	fi
}

proctype remover(byte mode)
{
	byte ret = 255;

	remove_p(mode, ret);
	assert(ret == OK || ret == EBUSY || ret == EINVAL);
	assert(ret != OK || state[P] == DEAD)        /* S3 */
}

/* Someone else removes C (S9: while P's removal may be running). */
proctype c_remover()
{
	byte ret = 255;

	remove_c(ret);
	assert(ret == OK || ret == EINVAL);
	assert(ret != OK || state[C] == DEAD)        /* S3 */
}

/* echo 1 > C/remove: the handler is inside C, then removes it. */
proctype self_remover()
{
	bool ok;
	byte ret = 255;

	enter(C, ok);
	if
	:: ok ->
		check_inside(C);
#ifndef SELF_REMOVE_KEEPS_REF
		leave(C);                     /* kernfs_remove_self() */
#endif
		remove_c(ret);
		assert(ret == OK && state[C] == DEAD)  /* S3 */
	:: else -> skip
	fi
}

/* S2, in every reachable state. */
active proctype no_orphan()
{
end:	atomic { (state[P] == DEAD && (linked[C] || state[C] == LIVE)) ->
		assert(false) }
}

init
{
	state[P] = LIVE;
	state[C] = NEW;
	deact[C] = 1;                         /* built closed */
	atomic {
		run user(P);
		run user(C);
		run adder();
		run remover(WAIT);
		run remover(TRY);
		run self_remover();
#ifdef MORE
		run c_remover();
		run user(P);
#endif
	};
	/* the only processes left: this one and the monitor */
	(_nr_pr == 2);
	/* S4 */
	assert(users[P] == 0 && users[C] == 0);
	assert(state[P] == DEAD);
	assert(state[C] != LIVE && !linked[C]);
	assert(removals[P] == 1 && removals[C] <= 1);
	assert(state[C] != DEAD || deact[C] > 0);
	assert(deact[P] > 0)
}
