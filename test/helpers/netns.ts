// Namespace helpers live in ts/netns (the root demo uses them too).
export * from '../../ts/netns/netns.js';
