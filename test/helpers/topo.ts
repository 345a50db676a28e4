export * from '../../ts/netns/topo.js';
